"""The latency predictor on small fixed data: the kernels a recording launches (hand-counted nets), the time model
against hand arithmetic, the fit recovering known parameters, calibration files, and timm's benchmark files read
the way timm's benchmark.py wrote them."""
import json
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from cnnprofile.analyses.kernels import CLASSES, kernels_of
from cnnprofile.devices import DevicePeak, device_by_key
from cnnprofile.errors import InputError
from cnnprofile.predict.calibration import SCHEMA, Calibration, load
from cnnprofile.predict.features import KernelArrays, arrays_of
from cnnprofile.predict.fit import Sample, errors, fit, refit_scales
from cnnprofile.predict.measurements import TIMM_AMP, Step, read_results, timm_step
from cnnprofile.predict.model import default_params, kernel_times
from cnnprofile.record.run import traced

DATA = Path(__file__).resolve().parent.parent / "benchmarks" / "data"
T4090 = DATA / "timm-benchmark-infer-amp-nchw-pt291-cu128-4090.csv"
H200 = Path(__file__).resolve().parent.parent / "reports" / "bench" / "20261128T061227Z-cuda-gpu-check.jsonl"


class Small(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1)
        self.bn = nn.BatchNorm2d(8)
        self.fc = nn.Linear(8, 10)

    def forward(self, x):
        x = F.relu(self.bn(self.conv(x)), inplace=True)
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


def test_the_kernels_of_a_small_net_counted_by_hand():
    k = kernels_of(traced(Small().eval(), (2, 3, 8, 8)).recording)
    by = {x.cls: x for x in k.kernels}
    # adaptive average pooling to 1x1 is dispatched as a mean: a reduction
    assert [x.cls for x in k.kernels] == ["conv", "norm", "elementwise", "reduce", "matmul"]
    conv = by["conv"]
    # 2 x 8 x 8 x 8 outputs x (3 x 3 x 3) MACs, twice for FLOPs, plus one bias addition per output
    assert conv.flops == 2 * (2 * 8 * 64 * 27) + 2 * 8 * 64
    assert conv.act_bytes == 4 * (2 * 3 * 64 + 2 * 8 * 64)  # input read, output written
    assert conv.param_bytes == 4 * (8 * 3 * 9 + 8)
    assert (conv.reduction, conv.width) == (27, 8)
    fc = by["matmul"]  # addmm reads the weight through its transpose: still the parameter
    assert fc.param_bytes == 4 * (8 * 10 + 10) and fc.act_bytes == 4 * (2 * 8 + 2 * 10)
    assert (fc.reduction, fc.width) == (8, 10)
    assert by["elementwise"].act_bytes == 4 * 2 * (2 * 8 * 64)  # in-place ReLU: read and written, no allocation
    assert k.param_tensors == 6 and k.param_bytes == 4 * (8 * 27 + 8 + 8 + 8 + 80 + 10)
    assert k.rows == ("conv", "bn", "(model)", "fc")


class Attention(nn.Module):
    def forward(self, q):
        return F.scaled_dot_product_attention(q, q * 2, q * 3)


def test_the_math_attention_is_one_fused_kernel_that_never_writes_its_matrix():
    b, h, n, d = 1, 2, 16, 8
    k = kernels_of(traced(Attention(), (b, h, n, d)).recording)
    classes = [x.cls for x in k.kernels]
    assert classes == ["elementwise", "elementwise", "attention"]  # the two products by 2 and 3, then attention
    att = k.kernels[-1]
    assert att.act_bytes == 4 * 4 * b * h * n * d  # Q, K, V read and the output written; no n x n matrix
    assert att.flops >= 2 * 2 * b * h * n * n * d  # at least QK^T and AV
    assert (att.reduction, att.width) == (d, d)


def _arrays(cls, flops, act, param=0.0, reduction=0.0, batch=1, tensors=0, total=0):
    n = len(cls)
    return KernelArrays("m", (3,), batch, np.array([CLASSES.index(c) for c in cls], dtype=np.int8),
                        np.array(flops, float), np.array(act, float), np.full(n, float(param)),
                        np.full(n, float(reduction)), np.zeros(n), np.zeros(n, dtype=np.int32), ("layer",),
                        tensors, total, 0)


DEVICE = DevicePeak("Test GPU", r"$^", {"fp32": 10.0, "tf32": 50.0, "fp16": 100.0, "bf16": 100.0}, "test",
                    bandwidth_gbs=1000.0)
PLAIN = {"compute": {c: 0.5 for c in CLASSES}, "memory": {c: 0.5 for c in CLASSES}, "launch_s": 1e-5,
         "reduction_half": 0.0, "flops_half": 0.0, "bytes_half": 0.0}


def test_a_kernel_takes_the_larger_roof_plus_its_launch():
    a = _arrays(["conv", "elementwise"], [1e9, 1e6], [1e6, 4e8])
    t = kernel_times(a, PLAIN, DEVICE, Step("float16"))
    # conv: 1e9 FLOPs at half of 100 TFLOP/s = 20 us; its 1e6 bytes (halved: 2-byte elements) at half of 1 TB/s = 1 us
    assert t.compute[0] == pytest.approx(2e-5) and t.memory[0] == pytest.approx(1e-6)
    # elementwise: 2e8 bytes at 0.5 TB/s = 400 us; its FLOPs run on the FP32 units (10 TFLOP/s at half)
    assert t.memory[1] == pytest.approx(4e-4) and t.compute[1] == pytest.approx(1e6 / 5e12)
    assert t.seconds == pytest.approx(2e-5 + 4e-4 + 2 * 1e-5)
    # float32 with TF32 convolutions: the TF32 peak, 4-byte elements
    t32 = kernel_times(a, PLAIN, DEVICE, Step("float32", tf32_conv=True))
    assert t32.compute[0] == pytest.approx(1e9 / 25e12) and t32.memory[1] == pytest.approx(8e-4)


def test_autocast_casts_every_parameter_once_per_pass():
    a = _arrays(["matmul"], [0.0], [0.0], tensors=10, total=4e6)
    t = kernel_times(a, PLAIN, DEVICE, TIMM_AMP)
    assert t.cast_seconds == pytest.approx(10 * 1e-5 + 4e6 * 1.5 / 0.5e12)  # read 4 bytes, write 2, per element


def _synthetic(rng, n, params, step=TIMM_AMP):
    samples = []
    for _ in range(n):
        k = rng.integers(20, 80)
        cls = rng.choice(["conv", "conv1x1", "dwconv", "matmul", "norm", "elementwise", "copy"], size=k)
        flops = np.where(np.isin(cls, ["conv", "conv1x1", "dwconv", "matmul"]), 10 ** rng.uniform(7, 11, k),
                         10 ** rng.uniform(4, 7, k))
        act = 10 ** rng.uniform(4, 8, k)
        a = _arrays(list(cls), flops, act, reduction=32, tensors=int(k), total=1e6)
        samples.append(Sample(a, 0.0, DEVICE, step))
    return [Sample(s.arrays, kernel_times(s.arrays, params, DEVICE, step).seconds, DEVICE, step) for s in samples]


def test_the_fit_recovers_the_times_of_known_parameters():
    rng = np.random.default_rng(0)
    true = default_params()
    true["compute"].update(conv=0.7, matmul=0.8, dwconv=0.1)
    true["memory"].update(elementwise=0.9, norm=0.6, copy=0.8)
    true.update(launch_s=4e-6, reduction_half=8.0)
    train, test = _synthetic(rng, 80, true), _synthetic(rng, 40, true)
    fitted = fit(train)
    assert np.median(np.abs(errors(test, fitted))) < 0.01
    assert np.median(np.abs(errors(test, default_params()))) > 0.05  # the start was wrong: the fit did the work


def test_the_fits_stacked_pricing_is_the_predictions_per_model_one():
    # The fit prices every model at once from concatenated arrays; a prediction prices one model: two codings
    # of one time model, which must agree.
    rng = np.random.default_rng(2)
    params = default_params()
    params["memory"]["norm"] = 0.3
    samples = _synthetic(rng, 10, params)
    stacked = (1 + errors(samples, params)) * np.array([s.seconds for s in samples])
    single = [kernel_times(s.arrays, params, DEVICE, s.step).seconds for s in samples]
    assert np.allclose(stacked, single, rtol=1e-12)


def test_a_few_measurements_move_a_calibration_to_another_device():
    rng = np.random.default_rng(1)
    base = default_params()
    target = {"compute": {c: v * 0.6 for c, v in base["compute"].items()},
              "memory": {c: v * 0.8 for c, v in base["memory"].items()}, "launch_s": 2 * base["launch_s"],
              **{k: base[k] for k in ("reduction_half", "flops_half", "bytes_half")}}
    few, rest = _synthetic(rng, 5, target), _synthetic(rng, 40, target)
    assert np.median(np.abs(errors(rest, base))) > 0.2
    # exact rows from a base that fitted its own rows to 0.1 %: the rows, not the prior, decide
    assert np.median(np.abs(errors(rest, refit_scales(few, base, row_error=1e-3)))) < 0.01


def _with_misfit(samples, misfit):
    return [Sample(s.arrays, s.seconds * np.exp(-m), s.device, s.step) for s, m in zip(samples, misfit)]


def test_a_few_shot_fit_takes_off_the_misfit_the_base_measured_on_the_same_models():
    # Five models the time model mispredicts by their own factors (exp(m): +35 % on four of them, as a
    # time model can on one family) on the base device and on the target alike; the target is 30 % slower
    # on both roofs. Taking each row's misfit off leaves the device's change; fitting the rows as they are
    # takes the models' misfit for a device change.
    rng = np.random.default_rng(3)
    base = default_params()
    target = {**base, "compute": {c: v * 0.7 for c, v in base["compute"].items()},
              "memory": {c: v * 0.7 for c, v in base["memory"].items()}}
    misfit = np.array([0.3, 0.3, 0.3, 0.3, -0.05])
    few = _with_misfit(_synthetic(rng, 5, target), misfit)
    rest = _synthetic(rng, 40, target)
    taken_off = refit_scales(few, base, row_error=0.05, offsets=misfit)
    as_they_are = refit_scales(few, base, row_error=0.05)
    assert np.median(np.abs(errors(rest, taken_off))) < 0.01
    assert np.median(np.abs(errors(rest, as_they_are))) > 0.15


def test_calibrate_base_looks_up_the_misfit_of_each_row_by_model_and_input():
    # The base calibration knows four of the five models (by "model@CxHxW"), each mispredicted by +30 %; the
    # fifth it never ran, and that row has no misfit. The target device is 30 % slower on both roofs.
    from cnnprofile.predict.fewshot import few_shot, model_key

    rng = np.random.default_rng(4)
    base = default_params()
    target = {**base, "compute": {c: v * 0.7 for c, v in base["compute"].items()},
              "memory": {c: v * 0.7 for c, v in base["memory"].items()}}
    keys = [model_key(f"timm:m{i}", (3, 224, 224)) for i in range(5)]
    assert keys[0] == "timm:m0@3x224x224"
    few = _with_misfit(_synthetic(rng, 5, target), [0.3, 0.3, 0.3, 0.3, 0.0])
    cal = Calibration(device="rtx-4090", params=base, fit_median_error=0.05,
                      misfit={k: 0.3 for k in keys[:4]} | {"timm:m0@3x256x256": -1.0})
    rest = _synthetic(rng, 40, target)
    assert np.median(np.abs(errors(rest, few_shot(few, keys, cal)))) < 0.01


def test_the_few_shot_fit_is_the_mode_of_its_stated_posterior():
    # One memory-bound model (large elementwise kernels; launches negligible) measured 2x slower than the base
    # predicts. No row says anything about the compute scale: it stays at the base. The memory scale x (log)
    # is where soft L1 of z = (-x - log 2) / sigma_row plus (x / PRIOR_SIGMA)^2 is stationary, solved here
    # from that formula by root finding: short of the rows' log 0.5, pulled toward the base by the prior.
    from scipy.optimize import brentq

    from cnnprofile.predict.fit import PRIOR_SIGMA

    a = _arrays(["elementwise"] * 10, np.full(10, 1e6), np.full(10, 1e9))
    base = {**default_params(), "launch_s": 1e-12}
    row = Sample(a, 2 * kernel_times(a, base, DEVICE, Step()).seconds, DEVICE, Step())
    out = refit_scales([row], base, launch=False, row_error=0.2)
    sigma_row = 1.4826 * 0.2

    def slope(x):
        z = (-x - np.log(2)) / sigma_row
        return -2 * z / np.sqrt(1 + z * z) / sigma_row + 2 * x / PRIOR_SIGMA ** 2

    mode = brentq(slope, -np.log(2), 0.0)
    assert out["compute"] == pytest.approx(base["compute"], rel=1e-9)
    assert out["memory"]["elementwise"] / base["memory"]["elementwise"] == pytest.approx(np.exp(mode), rel=1e-3)
    assert np.exp(mode) > 0.55  # the prior did pull: a plain fit gives 0.5


def test_a_calibration_file_round_trips_and_refuses_what_it_is_not(tmp_path):
    cal = Calibration(device="rtx-4090", params=default_params(), fitted_on=("a.csv",), rows=3, step="amp-fp16",
                      fit_median_error=0.1, misfit={"timm:resnet50@3x224x224": -0.0123})
    path = tmp_path / "cal.json"
    cal.save(str(path))
    assert load(str(path), "rtx-4090") == cal
    with pytest.raises(InputError, match="a calibration for 'rtx-4090', not for 'rtx-3090'"):
        load(str(path), "rtx-3090")
    other = json.loads(path.read_text())
    other["schema"] = "cnnprofile.calibration/0"
    path.write_text(json.dumps(other))
    with pytest.raises(InputError, match=f"this version reads '{SCHEMA}'"):
        load(str(path))
    path.write_text("{not json")
    with pytest.raises(InputError, match="not a calibration file"):
        load(str(path))
    with pytest.raises(InputError, match="no such calibration file"):
        load(str(tmp_path / "missing.json"))


def test_timms_file_is_read_as_timm_measured_it():
    rows = read_results(str(T4090))
    r50 = next(m for m in rows if m.architecture == "resnet50" and m.input_shape == (3, 224, 224))
    # the file's row: resnet50,224,4302.84,237.959,1024,... (ms per forward pass of the batch)
    assert (r50.batch, r50.seconds, r50.model) == (1024, pytest.approx(0.237959), "timm:resnet50")
    assert r50.step == TIMM_AMP and r50.step.label == "amp-fp16" and r50.device == "rtx-4090"
    assert len(rows) == sum(1 for line in T4090.open() if not line.startswith("#")) - 1


def test_results_files_that_cannot_calibrate_are_refused(tmp_path):
    with pytest.raises(InputError, match="only timm's eager GPU inference files"):
        timm_step("benchmark-infer-amp-nchw-pt291-cu128-4090-dynamo.csv")
    empty = tmp_path / "benchmark-infer-amp-nchw-x-4090.csv"
    empty.write_text("model,infer_img_size,infer_samples_per_sec,infer_step_time,infer_batch_size\n")
    with pytest.raises(InputError, match="no usable row"):
        read_results(str(empty))
    other = tmp_path / "other.csv"
    other.write_text("a,b\n1,2\n")
    with pytest.raises(InputError, match="not a timm inference benchmark file"):
        read_results(str(other))


def test_bench_files_give_their_eager_inference_rows():
    rows = read_results(str(H200))
    assert {m.model for m in rows} == {"resnet50", "vgg16", "googlenet", "alexnet"}
    assert len(rows) == 32  # 4 models x 4 batches x (float32, bfloat16); the CUDA-graph row is not eager
    fp32 = next(m for m in rows if m.model == "resnet50" and m.batch == 256 and m.step.dtype == "float32")
    assert fp32.step.label == "fp32+tf32" and fp32.step.matrix_precision(conv=True) == "tf32"
    assert fp32.step.matrix_precision(conv=False) == "fp32"  # the run allowed TF32 for cuDNN only
    # The bfloat16 runs cast the model and its input (no autocast): 2-byte elements, no per-pass weight casts,
    # bf16 tensor cores; the time is the median CUDA-event time of one forward pass of the whole batch
    # (the file's line: median 15.84 ms at batch 256, 16,160 images/s over its throughput window).
    bf16 = next(m for m in rows if m.model == "resnet50" and m.batch == 256 and m.step.dtype == "bfloat16")
    assert bf16.step.amp is None and bf16.step.element_size == 2 and bf16.step.matrix_precision(conv=True) == "bf16"
    assert bf16.seconds == pytest.approx(15.843e-3, abs=1e-6) and 256 / bf16.seconds == pytest.approx(16160, rel=0.02)
    # ... priced at the H200 SXM's dense datasheet figures (sparse ones are twice these)
    h200 = device_by_key("h200-sxm")
    assert (h200.tflops["bf16"], h200.tflops["tf32"], h200.tflops["fp32"], h200.bandwidth_gbs) == (989.5, 494.5, 67.0,
                                                                                                   4800.0)


def test_arrays_scale_with_the_batch_but_parameters_do_not():
    k = kernels_of(traced(Small().eval(), (1, 3, 8, 8)).recording)
    one = arrays_of(k, "small", (3, 8, 8), 1)
    four = arrays_of(kernels_of(traced(Small().eval(), (4, 3, 8, 8)).recording), "small", (3, 8, 8), 4)
    scaled = one.at(4)
    assert np.allclose(scaled.flops, four.flops) and np.allclose(scaled.param_bytes, four.param_bytes)
    # batch norm reads its running statistics and writes its saved ones (8 channels x 4 tensors x 4 bytes) once
    # whatever the batch: the one place a batch-1 recording scaled up overcounts
    assert np.allclose(scaled.act_bytes[[0, 2, 3, 4]], four.act_bytes[[0, 2, 3, 4]])
    assert scaled.act_bytes[1] - four.act_bytes[1] == (4 - 1) * (8 * 4 * 4)


def test_unknown_device_lists_the_known_ones():
    with pytest.raises(InputError, match="unknown device 'rtx-9999'; known: .*rtx-4090"):
        device_by_key("rtx-9999")
