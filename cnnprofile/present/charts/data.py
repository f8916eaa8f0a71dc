"""Chart data: plain frozen records computed from profiles, published accuracy and benchmark results.

Nothing here imports matplotlib; every chart draws from one ``ChartData``.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Iterable, Literal, Mapping, Optional, Sequence

OpsUnit = Literal["macs", "flops"]

UNKNOWN = "#555555"  # a model that is not in the colour map (it cannot happen through chart_data)


@dataclass(frozen=True)
class ModelPoint:
    """One model as the charts see it: the analyzer's totals at batch 1 and its published accuracy, if any."""

    name: str
    family: str
    resolution: int  # input height in pixels
    params: int
    macs: int
    flops: int
    activation_bytes: int
    top1: Optional[float] = None
    top5: Optional[float] = None

    def ops(self, unit: OpsUnit) -> int:
        return self.macs if unit == "macs" else self.flops


def model_point(profile, accuracy=None, family: str = "") -> ModelPoint:
    t = profile.totals
    return ModelPoint(name=profile.model, family=family or profile.model, resolution=profile.input_shape[-2],
                      params=t.params, macs=t.macs, flops=t.flops, activation_bytes=t.activation_bytes,
                      top1=accuracy.top1 if accuracy else None, top5=accuracy.top5 if accuracy else None)


@dataclass(frozen=True)
class BenchCell:
    """A benchmark cell fit to draw: "ok" (timed) or "oom". Invalid and failed cells never get here."""

    series: str  # the model, plus its configuration when results hold several configurations
    model: str
    batch: int
    status: str
    latency_ms: Optional[float]  # median of one forward pass of the whole batch
    throughput: Optional[float]  # images per second
    peak_memory: Optional[int]
    macs_per_image: Optional[int]
    noisy: bool
    power_w: Optional[float] = None  # average board power over the throughput window; None where not reported
    images_per_joule: Optional[float] = None
    memory_kind: Optional[str] = None  # how peak_memory was measured (BenchResult.peak_memory_kind)


@dataclass(frozen=True)
class MemoryLine:
    """The predicted peak (``cnnprofile.memory``) of one series' step over batch sizes, drawn as a line."""

    series: str  # the series of the bench cells it is drawn against, or the model's name
    model: str
    step: str  # "inference" or "training step (OPTIMIZER)"
    device: str  # whose allocator the prediction models: "cuda" or "cpu"
    batches: tuple = ()
    peaks: tuple = ()  # bytes, one per batch
    error: Optional[str] = None  # why no prediction could be made (then batches and peaks are empty)


def _config(r) -> str:
    flags = [name for name in ("autocast", "channels_last", "compile", "cuda_graphs") if getattr(r, name)]
    if getattr(r, "train", False):
        flags.append(f"train {r.optimizer or 'none'}")
    return ", ".join([r.device_name or r.device, r.dtype] + flags)


def drawn_results(results: Sequence) -> list:
    """The results a chart can draw, in order: timed ("ok") or out of memory."""
    return [r for r in results if r.status in ("ok", "oom")]


def _per_joule(energy_j: Optional[float]) -> Optional[float]:
    return 1.0 / energy_j if energy_j else None


def bench_cells(results: Sequence, macs: Optional[Mapping[str, int]] = None) -> tuple:
    """Drawable cells of ``results``; ``macs`` ({model: MACs per image}) overrides the results' own figures."""
    kept = drawn_results(results)
    several = len({_config(r) for r in kept}) > 1
    out = []
    for r in kept:
        ok = r.status == "ok"
        out.append(BenchCell(
            series=f"{r.model} ({_config(r)})" if several else r.model, model=r.model, batch=r.batch_size,
            status=r.status, latency_ms=r.latency_ms.median if ok and r.latency_ms else None,
            throughput=r.throughput_ips if ok else None, peak_memory=r.peak_memory_bytes if ok else None,
            macs_per_image=(macs or {}).get(r.model, r.macs_per_image), noisy=r.noisy,
            power_w=r.power_w if ok else None,
            images_per_joule=_per_joule(r.energy_per_image_j) if ok else None,
            memory_kind=r.peak_memory_kind if ok else None))
    return tuple(out)


def colour_map(names: Iterable[str]) -> dict:
    """{model: colour}, one per distinct name in first-seen order: the same model, the same colour everywhere, and
    no two models one colour however many there are (``palette``)."""
    from .palette import palette

    distinct = list(dict.fromkeys(names))
    return dict(zip(distinct, palette(len(distinct))))


@dataclass(frozen=True)
class RoofPoint:
    """One layer on the roofline chart: its FLOPs per byte and the FLOP/s its roof allows at that intensity."""

    model: str
    layer: str
    intensity: float  # FLOPs per byte moved
    attainable_tflops: float  # min(peak, bandwidth x intensity)
    bound: str  # "compute" or "memory"


@dataclass(frozen=True)
class Roof:
    """The device of the roofline chart."""

    device: str
    precision: str
    peak_tflops: float
    bandwidth_gbs: float
    batch: int = 1  # the batch size the layers' intensities are computed at


def roof_points(profile) -> tuple:
    """The layers of a profile enriched with roofline columns (``cnnprofile.analyses.enrich``), as chart points; layers
    that compute nothing are left out (they have no place on a FLOPs axis)."""
    d = profile.device
    out = []
    for r in profile.layers:
        if r.arithmetic_intensity and r.flops:
            out.append(RoofPoint(profile.model, r.name, r.arithmetic_intensity,
                                 min(d.peak_tflops, d.bandwidth_gbs * r.arithmetic_intensity / 1e3), r.bound))
    return tuple(out)


@dataclass(frozen=True)
class ChartData:
    """Everything any chart draws from: one signature, ``draw(data) -> Figure``, for every chart kind."""

    points: tuple = ()  # of ModelPoint
    cells: tuple = ()  # of BenchCell
    ops: OpsUnit = "macs"
    colors: Mapping[str, str] = field(default_factory=dict)  # model name -> colour, shared by every chart
    roof: Optional[Roof] = None  # the device of the roofline chart (drawn only with one)
    roof_points: tuple = ()  # of RoofPoint
    memory: tuple = ()  # of MemoryLine

    def colour(self, model: str) -> str:
        return self.colors.get(model, UNKNOWN)

    @property
    def has_power(self) -> bool:
        return any(c.power_w is not None for c in self.cells)


def chart_data(points: Sequence[ModelPoint] = (), cells: Sequence[BenchCell] = (), ops: OpsUnit = "macs",
               colors: Optional[Mapping[str, str]] = None, roof: Optional[Roof] = None,
               roof_points: Sequence[RoofPoint] = (), memory: Sequence[MemoryLine] = ()) -> ChartData:
    """A ChartData whose colour map covers the models in order: those profiled first, then benchmarked ones."""
    if colors is None:
        colors = colour_map([p.name for p in points] + [c.model for c in cells] + [m.model for m in memory])
    return ChartData(points=tuple(points), cells=tuple(cells), ops=ops, colors=dict(colors), roof=roof,
                     roof_points=tuple(roof_points), memory=tuple(memory))


def series(cells: Sequence[BenchCell]) -> dict:
    """{series: cells sorted by batch size}, in first-seen order."""
    out: dict = {}
    for c in cells:
        out.setdefault(c.series, []).append(c)
    return {k: sorted(v, key=lambda c: c.batch) for k, v in out.items()}


def common_batch(cells: Sequence[BenchCell]) -> Optional[int]:
    """The batch size timed for the most models (the smallest on a tie): where models compare fairly."""
    counts: dict = {}
    for c in cells:
        if c.status == "ok":
            counts.setdefault(c.batch, set()).add(c.series)
    return min(counts, key=lambda b: (-len(counts[b]), b)) if counts else None


def linear_fit(xs: Sequence[float], ys: Sequence[float]) -> Optional[tuple]:
    """Least-squares ``y = slope * x + intercept`` and R^2; None with fewer than two distinct x."""
    n = len(xs)
    if n < 2 or len(set(xs)) < 2:
        return None
    mx, my = sum(xs) / n, sum(ys) / n
    sxx = sum((x - mx) ** 2 for x in xs)
    slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sxx
    intercept = my - slope * mx
    ss_tot = sum((y - my) ** 2 for y in ys)
    ss_res = sum((y - slope * x - intercept) ** 2 for x, y in zip(xs, ys))
    return slope, intercept, (1 - ss_res / ss_tot) if ss_tot else 1.0


def best_throughput(cells: Sequence[BenchCell]) -> dict:
    """{model: (images per second, batch)} at the batch size that gave the most."""
    best: dict = {}
    for c in cells:
        if c.throughput is not None and (c.model not in best or c.throughput > best[c.model][0]):
            best[c.model] = (c.throughput, c.batch)
    return best


def size_legend_values(params: Sequence[int]) -> list:
    """Two or three round parameter counts spanning ``params``, for the bubble-size legend."""
    steps = [m * 10 ** e for e in range(3, 12) for m in (1, 2, 5)]
    lo, hi = min(params), max(params)
    inside = [s for s in steps if lo <= s <= hi] or [min(steps, key=lambda s: abs(math.log(s / hi)))]
    picks = [inside[0], inside[len(inside) // 2], inside[-1]]
    return sorted(set(picks))
