"""``predict``: a model's latency and throughput on a named device from its recorded kernels and a calibration;
``calibrate``: a calibration fitted on measured results (or moved from a base one with a few of them).
"""
from __future__ import annotations

import datetime
from dataclasses import dataclass, replace

import numpy as np

from ..analyses.kernels import CLASSES
from ..devices import DevicePeak, device_by_key, shipped_calibration
from ..errors import InputError
from .calibration import Calibration, load
from ..record.run import traced
from .features import KernelArrays, model_arrays, traced_arrays
from .fewshot import few_shot, misfit_of, model_key
from .fit import Sample, errors, fit
from .measurements import Step, read_results
from .model import kernel_times

CONVENTION = ("predicted time = sum over the kernels an eager forward pass launches of max(FLOPs / (peak x "
              "compute fraction), bytes / (bandwidth x memory fraction)) + a launch cost, the fractions per kernel "
              "class from the calibration; views launch nothing; the math attention is one fused kernel; under "
              "autocast every float32 parameter is cast once per pass; bound = the roof that sets a kernel's time")
# The calibration a device without one of its own is moved from, through the two devices' datasheet peaks.
TRANSFER_FROM = "rtx-4090"


@dataclass(frozen=True)
class LayerPrediction:
    name: str
    kernels: int
    flops: float
    bytes_moved: float
    compute_s: float  # sum of the kernels' compute roofs
    memory_s: float  # ... and memory roofs
    seconds: float  # the layer's predicted time (per kernel: the larger roof, plus its launch)
    bound: str  # "compute", "memory" or "launch": what most of the layer's time is


@dataclass(frozen=True)
class Prediction:
    model: str
    input_shape: tuple  # of one sample
    batch: int
    device: str  # the device key
    device_name: str
    step: str  # the precision ("amp-fp16", "fp32+tf32", "bf16")
    seconds: float  # one forward pass of the batch
    images_per_s: float
    layers: tuple  # of LayerPrediction, in order; their seconds add up to ``seconds``
    classes: dict  # kernel class -> predicted seconds
    cast_s: float  # autocast's weight casts, charged to the layers that read the weights
    calibration: str  # where the calibration came from (a file, shipped, transferred)
    calibration_error: float | None  # its fit's median |error| on the rows it was fitted on
    uncounted_kernels: int  # kernels without a FLOP formula: timed on their bytes only
    peaks: tuple  # the datasheet figures used and their sources
    convention: str = CONVENTION


def parse_step(dtype: str = "float32", amp: str | None = None, tf32: bool = True) -> Step:
    """The step a user asks for: ``--dtype float16`` (pure half), ``--amp fp16|bf16`` (autocast over float32
    weights), float32 with TF32 where PyTorch allows it by default (cuDNN) or ``tf32=False`` for none."""
    names = {"fp16": "float16", "float16": "float16", "half": "float16", "bf16": "bfloat16",
             "bfloat16": "bfloat16", "fp32": "float32", "float32": "float32"}
    if dtype not in names:
        raise InputError(f"unknown dtype {dtype!r}; use float32, float16 or bfloat16")
    if amp is not None and (amp not in names or names[amp] == "float32"):
        raise InputError(f"unknown autocast dtype {amp!r}; use fp16 or bf16")
    if amp is not None and names[dtype] != "float32":
        raise InputError("--amp autocasts float32 weights; leave --dtype at float32")
    return Step(names[dtype], names[amp] if amp else None, tf32_conv=tf32, tf32_matmul=tf32 and amp is not None)


def with_prediction(profile, traced, device: str, step: Step, calibration: str | None = None):
    """``profile`` with the predicted time of every layer row on device key ``device`` (the "predicted" column
    group), from the recording ``traced`` it was counted from: no second pass."""
    from ..analyses.enrich import attach
    from ..analyses.kernels import kernels_of
    from ..records import PredictedOn
    from .features import arrays_of

    peak = device_by_key(device)
    cal, where = calibration_for(device, calibration)
    rec = traced.recording
    shape = tuple(profile.input_shape)
    arrays = arrays_of(kernels_of(rec), profile.model, shape[1:], shape[0] if shape else 1)
    times = kernel_times(arrays, cal.params, peak, step)
    inside = arrays.row >= 0
    per_row = np.bincount(arrays.row[inside], weights=times.total[inside], minlength=len(arrays.rows))
    return attach(profile, "predicted", list(arrays.rows), [dict(predicted_s=float(x)) for x in per_row],
                  input_values=dict(predicted_s=0.0), conventions={"predicted": f"{CONVENTION}; calibration: {where}"},
                  predicted=PredictedOn(device, peak.name, step.label, where, cal.fit_median_error))


def calibration_for(device: str, path: str | None = None) -> tuple:
    """(calibration, where it comes from) for device key ``device``: the file given, the one shipped for the
    device, or the shipped one of ``TRANSFER_FROM`` moved through the datasheet peaks (and saying so)."""
    if path:
        return load(path, device), path
    own = shipped_calibration(device)
    if own:
        return load(str(own), device), "shipped"
    if device == "cpu":  # no GPU's fractions say anything of a CPU
        raise InputError("no calibration for cpu: time some models with 'cnnprofile bench --device cpu', then "
                         "'cnnprofile calibrate RESULTS.jsonl --device cpu -o cpu.json' and pass --calibration")
    base = shipped_calibration(TRANSFER_FROM)
    if base is None:
        raise InputError(f"no calibration for {device!r}: run 'cnnprofile calibrate' on measurements of it")
    cal = load(str(base))
    fitted = "" if cal.fit_median_error is None else f", median |error| {100 * cal.fit_median_error:.1f}% there"
    where = (f"transferred from {cal.device} through datasheet peaks (no measurements of {device}; fitted on "
             f"{cal.device}'s{fitted}); " + transfer_record(cal, device))
    # its fit error is the base device's, not one of this device's rows: carried in ``where`` only
    return replace(cal, device=device, transferred_from=cal.device, fit_median_error=None), where


def transfer_base() -> tuple:
    """(the device key whose shipped calibration a GPU without one gets, its zero-shot checks by device key),
    or (None, {}) where none ships."""
    base = shipped_calibration(TRANSFER_FROM)
    return (TRANSFER_FROM, dict(load(str(base)).transfer_checks)) if base else (None, {})


def transfer_record(cal: Calibration, device: str) -> str:
    """How ``cal`` did when moved zero-shot to devices it was scored on, the target ``device`` first: what a
    prediction for an unmeasured device can honestly claim, where the fit's own error claims nothing."""
    checks = sorted(cal.transfer_checks.items(), key=lambda kv: (kv[0] != device, kv[0]))
    if not checks:
        return "no zero-shot transfer of this calibration has been scored: its error here is unknown"
    said = []
    for key, c in checks:
        signed = c["median_signed_error"]
        lean = "" if abs(signed) < 0.05 else f", predicted {'faster' if signed < 0 else 'slower'} than measured"
        said.append(f"{'this device' if key == device else key} {100 * c['median_abs_error']:.1f}% over "
                    f"{c['rows']:,} rows{lean} ({c['scored_on']})")
    return "the same transfer scored zero-shot, median |error|: " + "; ".join(said)


def _layer(name: str, sel: np.ndarray, arrays: KernelArrays, times, scale: float) -> LayerPrediction:
    compute, memory = times.compute[sel], times.memory[sel]
    binding = {"compute": float(compute[compute >= memory].sum()), "memory": float(memory[memory > compute].sum()),
               "launch": times.launch * int(sel.sum())}
    return LayerPrediction(name, int(sel.sum()), float(arrays.flops[sel].sum()),
                           float((arrays.act_bytes[sel] + arrays.param_bytes[sel]).sum() * scale),
                           float(compute.sum()), float(memory.sum()), float(times.total[sel].sum()),
                           max(binding, key=binding.get))


def predict_arrays(arrays: KernelArrays, device: DevicePeak, key: str, step: Step, cal: Calibration,
                   where: str) -> Prediction:
    times = kernel_times(arrays, cal.params, device, step)
    scale = step.element_size / 4
    layers = [_layer(arrays.rows[r], arrays.row == r, arrays, times, scale)
              for r in np.unique(arrays.row[arrays.row >= 0])]
    if (arrays.row < 0).any():
        layers.append(_layer("(outside any module)", arrays.row < 0, arrays, times, scale))
    own = np.maximum(times.compute, times.memory) + times.launch
    classes = {c: float(own[arrays.cls == i].sum()) for i, c in enumerate(CLASSES) if (arrays.cls == i).any()}
    if times.cast_seconds:
        classes["cast"] = classes.get("cast", 0.0) + times.cast_seconds
    return Prediction(arrays.name, arrays.input_shape, arrays.batch, key, device.name, step.label, times.seconds,
                      arrays.batch / times.seconds, tuple(layers), classes, times.cast_seconds, where,
                      cal.fit_median_error, arrays.uncounted, (device.source, device.bandwidth_source))


def prediction_setup(device: str, batch: int, calibration: str | None = None) -> tuple:
    """(device peaks, calibration, where it comes from) for predictions at ``batch`` on device key ``device``;
    one line naming the problem otherwise."""
    if batch < 1:
        raise InputError(f"--batch must be at least 1, got {batch}")
    peak = device_by_key(device)
    if peak.bandwidth_gbs is None:
        raise InputError(f"{device}: no published memory bandwidth; a prediction needs one")
    cal, where = calibration_for(device, calibration)
    return peak, cal, where


def predict(model, *, device: str, batch: int = 1, step: Step | None = None, calibration: str | None = None,
            input_size=None, kwargs: dict | None = None) -> Prediction:
    """The predicted latency of one forward pass of ``model`` (a spec, a ``ModelSource`` or an ``nn.Module``,
    left as found) at ``batch`` on device key ``device``, per layer and in total."""
    peak, cal, where = prediction_setup(device, batch, calibration)
    step = step or Step()
    if device == "cpu":  # no TF32 units on a CPU
        step = replace(step, tf32_conv=False, tf32_matmul=False)
    check = bool(peak.memory_gb) and device != "cpu"
    # One pass: the kernels, and (a float32 step) the inference peak from its storage log.
    t = traced(model, input_size, batch, kwargs, lifetimes=check)
    arrays = traced_arrays(t)
    if check:
        _check_fits(model, t, arrays, peak, step, input_size, kwargs)
    return predict_arrays(arrays, peak, device, step, cal, where)


def _check_fits(model, t, arrays: KernelArrays, peak: DevicePeak, step: Step, input_size, kwargs) -> None:
    """Refuse a batch whose predicted inference peak (the memory predictor's, for CUDA's allocator) is more
    than the device holds: a latency for a run that cannot happen means nothing. A float32 step reads it from
    the recording ``t`` already made; half precision and autocast need their own pass (their casts and sizes)."""
    from ..analyses.memory import memory
    from ..analyses.memory.replay import peaks
    from ..analyses.memory.targets import get_target

    if step.amp is None and step.dtype == "float32":
        need = peaks(t, get_target("cuda"), (arrays.batch,))[0]
    else:
        amp = {"float16": "fp16", "bfloat16": "bf16"}.get(step.amp) if step.amp else None
        need = memory(model, input_size, batch=arrays.batch, dtype=step.dtype, amp=amp, device="cuda",
                      kwargs=kwargs).peak_bytes
    if need > peak.memory_gb * 1e9:
        raise InputError(f"{arrays.name} at batch {arrays.batch} needs {need / 1e9:.1f} GB (predicted "
                         f"inference peak), more than the {peak.memory_gb:g} GB of the {peak.name}")


def samples_of(measurements: list, device: DevicePeak, cache: dict | None = None, progress=None) -> tuple:
    """(samples, skipped): one fit sample per measurement whose model can be recorded; skipped ones with why."""
    from ..errors import CnnprofileError, first_line

    cache = {} if cache is None else cache
    samples, skipped = [], []
    for m in measurements:
        key = (m.model, m.input_shape)
        if key not in cache:
            try:
                cache[key] = model_arrays(m.model, m.input_shape or None, batch=1)
            except (CnnprofileError, RuntimeError, ValueError, TypeError, AssertionError) as e:
                cache[key] = first_line(e, with_type=True)
        got = cache[key]
        if isinstance(got, str):
            skipped.append((m.model, got))
            continue
        samples.append(Sample(got.at(m.batch), m.seconds, device, m.step))
        if progress:
            progress(m)
    return samples, skipped


def calibrate(results: list, *, device: str, base: str | None = None, cache: dict | None = None,
              progress=None) -> tuple:
    """(calibration, skipped) fitted on the measurements in ``results`` (timm benchmark CSVs, ``bench`` JSONL)
    of device key ``device``; with ``base`` (a calibration file), only the scales of its roofs and the launch
    cost are fitted, which a handful of measurements determine."""
    from .. import __version__

    peak = device_by_key(device)
    if peak.bandwidth_gbs is None:
        raise InputError(f"{device}: no published memory bandwidth; a calibration needs one")
    measurements = [m for path in results for m in read_results(path)]
    cache = {} if cache is None else cache
    samples, skipped = samples_of(measurements, peak, cache, progress)
    if not samples:
        raise InputError("no measured model could be recorded: " + "; ".join(f"{m}: {w}" for m, w in skipped[:3]))
    keys = [model_key(m.model, m.input_shape) for m in measurements
            if not isinstance(cache[(m.model, m.input_shape)], str)]  # the rows samples_of kept, in order
    base_cal = load(base) if base else None
    # Runs mostly at small batches determine the launch cost (a host's eager dispatch); large-batch files (a few
    # rows cut down after running out of memory aside) do not.
    small = np.median([s.arrays.batch for s in samples]) < 64
    params = few_shot(samples, keys, base_cal) if base_cal else fit(samples, fixed=() if small else ("launch_s",))
    err = float(np.median(np.abs(errors(samples, params))))
    steps = sorted({s.step.label for s in samples})
    cal = Calibration(device=device, params=params, fitted_on=tuple(results), rows=len(samples),
                      step=", ".join(steps), fit_median_error=round(err, 4),
                      base=base_cal.device if base_cal else None,
                      created=datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
                      tool_version=__version__, misfit=misfit_of(samples, keys, params),
                      notes=(f"{len(skipped)} measured rows skipped (model not recordable)",) if skipped else ())
    return cal, skipped


__all__ = ["CONVENTION", "LayerPrediction", "Prediction", "calibrate", "calibration_for", "parse_step", "predict",
           "predict_arrays", "prediction_setup", "samples_of", "transfer_base", "transfer_record",
           "with_prediction"]
