"""The sweep: every (model, batch size) cell is built, warmed up, timed and written before the next starts.

Method, per cell:
1. build the model with random weights directly on the device, eval mode (train mode with ``train``), cast to
   the dtype (or left in float32 under ``torch.autocast``), optionally channels-last; synthetic input allocated
   once on the device;
2. inference runs under ``torch.inference_mode()``; a training step is forward, loss, backward, the optimizer's
   step and ``zero_grad(set_to_none=True)`` (``steps``); the first call pays for cuDNN autotuning,
   ``torch.compile`` and the optimizer's state; CUDA graphs (inference only) are captured after a side-stream
   warm-up, and ``graph.replay()`` is timed;
3. warm-up in windows until the median of one window is within ``stable_tolerance`` of the previous one
   (bounded by ``max_warmup_s``);
4. latency: every iteration timed on its own (CUDA events on a GPU, wall clock on a CPU);
5. throughput: a separate synchronized wall-clock window over back-to-back iterations;
6. peak memory over the timed runs, ``cnnprofile.memory``'s predicted peak of the same step beside it
   (``predict``), achieved TFLOP/s from the analyzer's FLOPs (forward + backward for a training step), and a
   roofline check against the device's published peak;
7. where the device reports it (NVML on CUDA), average board power over the throughput window, sampled from a
   background thread, and energy per image = power x window / images (Canziani et al.'s power figures).
"""
from __future__ import annotations

import contextlib
import math
import time
from dataclasses import dataclass
from typing import Callable, Optional, Sequence

from ..errors import first_line
from ..sources import ModelSource
from .env import utc_now
from ..devices import precision_for
from .power import energy_per_image
from .predict import PREDICTED_PEAK, analyse
from .results import BenchResult, append_result
from .stats import is_noisy, median, relative_change, summarize
from .timers import Timer, time_iterations


@dataclass(frozen=True)
class BenchConfig:
    batch_sizes: tuple
    dtype: str = "float32"
    autocast: bool = False  # run under torch.autocast(dtype) with float32 weights instead of casting
    channels_last: bool = False
    compile: bool = False
    cuda_graphs: bool = False
    warmup: int = 10  # at least this many warm-up iterations, then until timings are stable
    max_warmup_s: float = 30.0
    stable_tolerance: float = 0.05  # successive warm-up window medians within 5%
    warmup_window_s: float = 0.1  # each warm-up window lasts about this long
    min_time_s: float = 1.0  # each of the latency and throughput phases lasts at least this long
    iters: Optional[int] = None  # a fixed number of timed iterations per phase instead of min_time_s
    min_iters: int = 10
    seed: int = 0
    train: bool = False  # time a full training step instead of a forward pass
    optimizer: str = "sgd"  # with train: none, sgd, sgd-momentum, adam or adamw
    inputs: tuple = ()  # --input specs; () = each model's native input. The batch size sets their first dimension


def _iterations_for(seconds: float, per_iter_ms: float, floor: int, cap: int = 100_000) -> int:
    return int(min(cap, max(floor, math.ceil(seconds * 1e3 / max(per_iter_ms, 1e-6)))))


def _capture_graph(torch, step: Callable[[], object]) -> Callable[[], object]:
    """Warm ``step`` on a side stream (as capture requires), capture one call, return the replay."""
    side = torch.cuda.Stream()
    side.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(side):
        for _ in range(3):
            step()
    torch.cuda.current_stream().wait_stream(side)
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        step()
    return graph.replay


def _warm_up(step, timer: Timer, backend, cfg: BenchConfig) -> tuple:
    """(iterations run, whether timings settled, the last window's median ms)."""
    t0 = time.perf_counter()
    step()  # pays for lazy initialisation, cuDNN autotuning and compilation
    backend.synchronize()
    done, prev, window = 1, None, 3
    while True:
        med = median(time_iterations(timer, step, window))
        done += window
        stable = relative_change(prev, med) < cfg.stable_tolerance
        if (stable and done >= cfg.warmup) or time.perf_counter() - t0 > cfg.max_warmup_s:
            return done, stable, med
        prev = med
        window = _iterations_for(cfg.warmup_window_s, med, floor=3, cap=1000)


def _measure(source: ModelSource, batch: int, cfg: BenchConfig, backend, timer: Timer, held: dict) -> dict:
    import torch

    from ..errors import InputError
    from ..inputs import integer_high, parse_dtype, resolve_inputs
    from .steps import autocast_factory, make_optimizer, training_step

    dtype = parse_dtype(cfg.dtype)
    dev = backend.torch_device
    fmt = torch.channels_last if cfg.channels_last else torch.contiguous_format
    torch.manual_seed(cfg.seed)
    backend.mark_baseline()
    model = source.build(dev)
    # Training keeps the model's own requires_grad flags, as the memory predictor does.
    model = (model.train() if cfg.train else model.eval().requires_grad_(False)).to(memory_format=fmt)
    if not cfg.autocast:
        model = model.to(dtype)
    inputs = resolve_inputs(source.inputs, list(cfg.inputs) or None, batch)
    # Real values: integer inputs (token ids) below the first embedding's size, floating ones normal.
    args, kwargs = inputs.make(dev, torch.float32 if cfg.autocast else dtype, real=True,
                               int_high=integer_high(model))
    args, kwargs = _formatted(args, fmt), _formatted(kwargs, fmt)
    if cfg.train and (len(args) != 1 or kwargs):
        raise InputError(f"--train times models of one positional input; {source.name} is given {inputs.text()}")
    held.update(model=model, x=(args, kwargs))  # so the caller can drop every reference after an out-of-memory error
    forward = torch.compile(model, dynamic=False) if cfg.compile else model

    autocast = autocast_factory(cfg.autocast, dev, dtype)
    with contextlib.ExitStack() as ctx:
        if cfg.train:
            held["optimizer"] = optimizer = make_optimizer(cfg.optimizer, model, backend.name)
            step = training_step(model, forward, args[0], optimizer, autocast)
        else:
            ctx.enter_context(torch.inference_mode())
            ctx.enter_context(autocast())
            step = lambda: forward(*args, **kwargs)  # noqa: E731
        if cfg.cuda_graphs:
            step = _capture_graph(torch, step)
        held["step"] = step
        warm_iters, stable, warm_ms = _warm_up(step, timer, backend, cfg)

        backend.reset_peak_memory()
        n = cfg.iters or _iterations_for(cfg.min_time_s, warm_ms, cfg.min_iters)
        samples = time_iterations(timer, step, n)
        lat = summarize(samples)
        n_tp = cfg.iters or _iterations_for(cfg.min_time_s, lat.median, cfg.min_iters)
        meter = backend.power_meter()
        backend.synchronize()
        if meter is not None:
            meter.start()
        try:
            t0 = time.perf_counter()
            for _ in range(n_tp):
                step()
            backend.synchronize()
            seconds = time.perf_counter() - t0
        finally:
            power_w = meter.stop() if meter is not None else None  # never leave the sampling thread running
        peak = backend.peak_memory()
    return dict(latency_ms=lat, noisy=is_noisy(lat), throughput_ips=n_tp * batch / seconds, throughput_iters=n_tp,
                peak_memory_bytes=peak, peak_memory_kind=backend.memory_kind if peak is not None else None,
                warmup_iters=warm_iters, warmup_stable=stable, power_w=power_w,
                energy_per_image_j=energy_per_image(power_w, seconds, n_tp * batch))


def _formatted(value, fmt):
    """Channels-last applies to 4-D floating inputs (images); others stay as they are."""
    import torch
    from torch.utils._pytree import tree_map

    return tree_map(lambda t: t.contiguous(memory_format=fmt) if isinstance(t, torch.Tensor) and t.dim() == 4
                    and t.is_floating_point() else t, value)


def _one_line(exc: BaseException) -> str:
    return first_line(exc, with_type=True)[:300]


def run_cell(source: ModelSource, batch: int, cfg: BenchConfig, backend, env: dict,
             timer: Optional[Timer] = None) -> BenchResult:
    """Benchmark one (model, batch) cell; failures become a result with status "oom" or "error"."""
    base = dict(model=source.name, batch_size=batch, device=backend.name, device_name=backend.device_name(),
                dtype=cfg.dtype, autocast=cfg.autocast, channels_last=cfg.channels_last, compile=cfg.compile,
                cuda_graphs=cfg.cuda_graphs, train=cfg.train, optimizer=cfg.optimizer if cfg.train else None,
                env={**env, "date": utc_now()})
    try:
        a = analyse(source, batch, cfg, backend.name)
    except Exception as e:  # the analyzer could not trace it; the timing would fail the same way
        return BenchResult(status="error", error=f"analysis failed: {_one_line(e)}", **base)
    base.update(flops_per_image=a.flops, macs_per_image=a.macs, params=a.params, train_flops_per_image=a.train_flops,
                predicted_memory_bytes=a.predicted_bytes,
                predicted_memory_kind=PREDICTED_PEAK if a.predicted_bytes is not None else None,
                prediction_error=a.prediction_error)
    held: dict = {}
    status, error, measured = "ok", None, {}
    try:
        measured = _measure(source, batch, cfg, backend, timer or backend.make_timer(), held)
    except Exception as e:
        status = "oom" if backend.is_oom(e) else "error"
        error = _one_line(e)
    held.clear()  # the exception (and its frames) is gone here, so its tensors can be freed
    if cfg.compile:
        import torch

        torch._dynamo.reset()
    backend.free_memory()
    if status != "ok":
        return BenchResult(status=status, error=error, **base)

    precision = precision_for(cfg.dtype, bool(env.get("tf32_cudnn") or env.get("tf32_matmul")))
    peak = backend.peak_tflops(precision)
    step_flops = a.train_flops if cfg.train else a.flops  # a training step's backward counts too
    achieved = step_flops * measured["throughput_ips"] / 1e12 if step_flops is not None else None
    pct = 100.0 * achieved / peak if (peak and achieved is not None) else None
    if pct is not None and pct > 100.0:
        status = "invalid"
        error = (f"achieved {achieved:.1f} TFLOP/s exceeds the device's peak {peak:g} TFLOP/s ({precision}): "
                 "the measurement is wrong")
    return BenchResult(status=status, error=error, achieved_tflops=achieved, peak_tflops=peak, pct_of_peak=pct,
                       peak_precision=precision if peak else None, **measured, **base)


def run_sweep(sources: Sequence[ModelSource], cfg: BenchConfig, backend, output: Optional[str] = None, *,
              timer: Optional[Timer] = None, on_start: Optional[Callable] = None,
              on_result: Optional[Callable] = None) -> list:
    """Run every (model, batch) cell in order, appending each result to ``output`` as soon as it exists."""
    backend.prepare()
    env = backend.env()
    results = []
    for source in sources:
        for batch in cfg.batch_sizes:
            if on_start:
                on_start(source.name, batch)
            result = run_cell(source, batch, cfg, backend, env, timer)
            if output is not None:
                append_result(output, result)
            results.append(result)
            if on_result:
                on_result(result)
    return results
