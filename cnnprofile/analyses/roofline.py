"""Arithmetic intensity and the roofline: is a layer limited by arithmetic or by memory traffic?

Per layer row: FLOPs (the formula registry's), bytes read (every distinct tensor an op takes, input
activations and weights alike, once per op: an ideal cache) and bytes written (every tensor an op writes:
new activations, and in-place results, which write without allocating). Views and reshapes move nothing.
On a device with peak P FLOP/s and bandwidth B bytes/s, a layer takes at least max(FLOPs / P, bytes / B)
(Williams, Waterman and Patterson, "Roofline", CACM 2009); the sum over layers bounds the forward pass's
latency from below for unfused execution (a fused kernel skips writing its intermediates).
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from math import prod

import torch

from ..devices import DevicePeak, precision_for
from ..record.recorder import Node, Recording
from ..record.run import traced
from .counts import op_costs

INTENSITY_CONVENTION = ("bytes read = every distinct tensor an op reads (activations and weights), once per op (an "
                        "ideal cache); bytes written = every tensor an op writes, in-place results included; views "
                        "move nothing; arithmetic intensity = FLOPs / (bytes read + bytes written)")
ROOF_CONVENTION = ("roofline: least time = max(FLOPs / peak, bytes / bandwidth) per layer (Williams et al. 2009), "
                   "with the fastest units the dtype may use (TF32 for float32 where the card has them); its sum "
                   "over layers is a lower bound on the latency of unfused execution at this batch; bound = the "
                   "roof that sets the least time")
CONVENTION = INTENSITY_CONVENTION + "; " + ROOF_CONVENTION


@dataclass(frozen=True)
class LayerTraffic:
    name: str
    flops: int
    bytes_read: int
    bytes_written: int
    arithmetic_intensity: float | None  # FLOPs per byte moved; None when the layer moves nothing
    uncounted_ops: tuple = ()  # ops without a FLOP formula (their FLOPs are not in ``flops``)


@dataclass(frozen=True)
class LayerBound:
    name: str
    bound: str  # "compute", "memory" or "none" (no FLOPs and no bytes)
    least_time_s: float
    compute_time_s: float
    memory_time_s: float


@dataclass(frozen=True)
class Roofline:
    device: str
    precision: str
    peak_tflops: float
    bandwidth_gbs: float
    ridge: float  # FLOPs per byte where the two roofs meet
    layers: tuple  # of LayerBound, in the order of the traffic rows
    lower_bound_s: float
    sources: tuple  # where the peak and the bandwidth come from


@dataclass(frozen=True)
class Traffic:
    model: str
    input_shape: tuple
    dtype: str
    layers: tuple  # of LayerTraffic, one per layer row of the profile (the input row excluded)
    convention: str = CONVENTION


def tensor_bytes(t: torch.Tensor) -> int:
    """Bytes a tensor occupies: an expanded (stride 0) dimension is stored once."""
    return prod(s for s, st in zip(t.shape, t.stride()) if st != 0) * t.element_size()


def node_bytes(node: Node) -> tuple:
    """(read, written) by one op."""
    if node.aliases and not node.in_place:
        return 0, 0
    return sum(map(tensor_bytes, node.inputs)), sum(map(tensor_bytes, node.outputs))


def traffic_of(rec: Recording, model: str, input_shape: tuple, dtype: str, costs: list | None = None) -> Traffic:
    """Per-row FLOPs and bytes moved of a recording; ``costs`` (``counts.op_costs``) if already computed."""
    costs = op_costs(rec) if costs is None else costs
    layers = []
    for row in rec.rows():
        read = written = flops = 0
        uncounted = []
        for node in row.nodes:
            r, w = node_bytes(node)
            read, written = read + r, written + w
            cost = costs[node.index]
            if cost is None:
                uncounted.append(node.op)
            else:
                flops += cost.flops
        moved = read + written
        layers.append(LayerTraffic(row.name, flops, read, written, flops / moved if moved else None,
                                   tuple(dict.fromkeys(uncounted))))
    return Traffic(model, tuple(input_shape), dtype, tuple(layers))


def traffic(model, input_size=None, *, batch: int | None = None, dtype: str = "float32",
            kwargs: dict | None = None) -> Traffic:
    """Per-layer FLOPs and memory traffic of ``model`` (a zoo name, a spec or an ``nn.Module``)."""
    from ..inputs import parse_dtype

    t = traced(model, input_size, batch, kwargs, parse_dtype(dtype))
    return traffic_of(t.recording, t.name, t.inputs.main.shape, dtype)


def _precision(device: DevicePeak, dtype: str, tf32: bool = True) -> str:
    # The fastest units a run of this dtype may use (TF32 for float32 where the card has it and the run
    # allows it): a lower bound must not assume the slower path.
    precision = precision_for(dtype, tf32_allowed=tf32)
    return "fp32" if precision == "tf32" and "tf32" not in device.tflops else precision


def roofline(t: Traffic, device: DevicePeak, memory: bool = True, tf32: bool = True) -> Roofline:
    """The roofline bound of every layer of ``t`` on ``device``. ``memory=False`` keeps the compute roof only
    (for compiled runs, whose fused kernels never write their intermediates); ``tf32=False`` for a float32
    run that allows TF32 nowhere (then only the FP32 units count)."""
    precision = _precision(device, t.dtype, tf32)
    if precision not in device.tflops:
        from ..errors import InputError

        raise InputError(f"{device.name} has no {precision} peak to bound a {t.dtype} run with (its peaks: "
                         f"{', '.join(device.tflops)})")
    peak = device.tflops[precision] * 1e12
    bandwidth = device.bandwidth_gbs * 1e9
    bounds = []
    for layer in t.layers:
        compute = layer.flops / peak
        mem = (layer.bytes_read + layer.bytes_written) / bandwidth if memory else 0.0
        kind = "none" if compute == mem == 0 else ("compute" if compute >= mem else "memory")
        bounds.append(LayerBound(layer.name, kind, max(compute, mem), compute, mem))
    return Roofline(device.name, precision, peak / 1e12, bandwidth / 1e9, peak / bandwidth, tuple(bounds),
                    sum(b.least_time_s for b in bounds), (device.source, device.bandwidth_source))


def result_device(result) -> DevicePeak | None:
    """The peak table's entry for the device a bench result ran on (the CPU bound for a CPU run); None if
    the device is not in the table."""
    from ..devices import cpu_upper_bound, find_device

    if result.device == "cpu":
        threads = (result.env or {}).get("cpu_threads")
        return cpu_upper_bound(threads) if threads else None
    return find_device(result.device_name)


def result_bound(result) -> Roofline | None:
    """The roofline of a bench result's model, batch and dtype on its own device; None where the device is
    unknown, the run did not complete or the model cannot be profiled by name.

    Float32 runs count TF32 units when the run allowed TF32 anywhere (cuDNN convolutions, as PyTorch does by
    default, or matmuls): a layer it did not allow TF32 for is bounded by a larger peak than it had, which
    keeps the bound a lower one. CUDA graphs replay the same kernels, which still read and write every
    operand, so only compiled runs (fused kernels) drop the memory roof.
    """
    from ..errors import CnnprofileError

    device = result_device(result)
    if device is None or result.status != "ok":
        return None
    env = result.env or {}
    tf32 = bool(env.get("tf32_cudnn", True) or env.get("tf32_matmul", False))
    if _precision(device, result.dtype, tf32) not in device.tflops:  # e.g. bfloat16 on a V100: no peak known
        return None
    try:
        t = _traffic_cached(result.model, result.batch_size, result.dtype)
    except CnnprofileError:
        return None
    return roofline(t, device, memory=not result.compile, tf32=tf32)


@lru_cache(maxsize=64)
def _traffic_cached(model: str, batch: int, dtype: str) -> Traffic:
    # A report's results repeat (model, batch, dtype) across configurations: trace each once.
    return traffic(model, batch=batch, dtype=dtype)
