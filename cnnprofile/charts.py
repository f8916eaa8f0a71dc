"""Canziani-style charts of profiles, published accuracy and benchmark results.

Two halves: the chart data (plain records computed from profiles, accuracy and benchmark results; no
matplotlib) and the drawing (each function takes those records and returns a matplotlib Figure, drawn with
the Agg canvas and without pyplot, so nothing global changes). ``to_svg`` and ``save`` render a figure.

Operations and parameters always come from the analyzer's profiles, never from a dataset.
"""
from __future__ import annotations

import io
import math
import os
import tempfile
from dataclasses import dataclass
from typing import Callable, Optional, Sequence

from .errors import InputError

# --- chart data ----------------------------------------------------------------------------------------------


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

    def ops(self, unit: str) -> int:
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


def _config(r) -> str:
    flags = [name for name in ("autocast", "channels_last", "compile", "cuda_graphs") if getattr(r, name)]
    return ", ".join([r.device_name or r.device, r.dtype] + flags)


def bench_cells(results: Sequence, macs: Optional[dict] = None) -> tuple:
    """Drawable cells of ``results``; ``macs`` ({model: MACs per image}) overrides the results' own figures."""
    kept = [r for r in results if r.status in ("ok", "oom")]
    several = len({_config(r) for r in kept}) > 1
    lat = lambda r: r.latency_ms.median if r.status == "ok" and r.latency_ms else None  # noqa: E731
    return tuple(BenchCell(series=f"{r.model} ({_config(r)})" if several else r.model, model=r.model,
                           batch=r.batch_size, status=r.status, latency_ms=lat(r),
                           throughput=r.throughput_ips if r.status == "ok" else None,
                           peak_memory=r.peak_memory_bytes if r.status == "ok" else None,
                           macs_per_image=(macs or {}).get(r.model, r.macs_per_image), noisy=r.noisy)
                 for r in kept)


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


# --- drawing --------------------------------------------------------------------------------------------------

STYLE = {"font.family": "sans-serif", "font.sans-serif": ["DejaVu Sans", "Arial", "Helvetica"],
         "font.size": 10, "axes.titlesize": 12, "axes.titleweight": "bold", "axes.grid": True,
         "grid.alpha": 0.3, "axes.spines.top": False, "axes.spines.right": False,
         "svg.fonttype": "none"}  # text stays text in the SVG: searchable, and escaped by matplotlib
PALETTE = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf",
           "#bcbd22", "#7f7f7f"]
OPS_LABEL = {"macs": "G-MACs per image (multiply-accumulates)",
             "flops": "G-FLOPs per image (2 x MACs + other arithmetic)"}
MAX_BUBBLE = 2400.0  # points^2 of the largest bubble


def _figure(width=8.0, height=5.6):
    import matplotlib
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    with matplotlib.rc_context(STYLE):
        fig = Figure(figsize=(width, height), layout="constrained")
        FigureCanvasAgg(fig)
        return fig, fig.add_subplot()


def _colors(keys) -> dict:
    out: dict = {}
    for k in keys:
        out.setdefault(k, PALETTE[len(out) % len(PALETTE)])
    return out


def _footnote(fig, text: str) -> None:
    if text:
        # Keep the note out of the constrained layout's way: reserve a band at the bottom for it.
        lines = 1 + len(text) // 150
        band = (0.03 + 0.028 * lines) * 5.6 / fig.get_figheight()
        fig.get_layout_engine().set(rect=(0, band, 1, 1 - band))
        fig.text(0.01, 0.01, text, fontsize=8, color="#555555", ha="left", va="bottom", wrap=True)


CROWD = 30  # above this many points, a label with no clear spot is left out rather than drawn over others


def short_names(names: Sequence[str]) -> list:
    """Labels without the ``torchvision:`` prefix wherever that leaves them unambiguous."""
    shorts = [n.split(":", 1)[1] if n.startswith("torchvision:") else n for n in names]
    return [s if shorts.count(s) == 1 else n for n, s in zip(names, shorts)]


def _place_labels(ax, xs, ys, names, radii) -> None:
    """Label every point, trying spots around it until the label overlaps no other label or point.

    With more than ``CROWD`` points, a label that finds no clear spot is left out (the caller says so).
    """
    names = short_names(names)
    import matplotlib

    with matplotlib.rc_context(STYLE):
        renderer = ax.figure.canvas.get_renderer()
        ax.figure.draw_without_rendering()  # fixes the layout so display coordinates are final
        to_px = ax.transData.transform
        pt = ax.figure.dpi / 72
        dots = [matplotlib.transforms.Bbox.from_bounds(*(to_px((x, y)) - 2 * pt), 4 * pt, 4 * pt)
                for x, y in zip(xs, ys)]
        frame, placed = ax.get_window_extent(renderer), []
        for i in sorted(range(len(xs)), key=lambda i: -ys[i]):
            r = radii[i] + 2
            spots = [(r, 0, "left", "center"), (-r, 0, "right", "center"), (0, r, "center", "bottom"),
                     (0, -r, "center", "top"), (r * .7, r * .7, "left", "bottom"), (r * .7, -r * .7, "left", "top"),
                     (-r * .7, r * .7, "right", "bottom"), (-r * .7, -r * .7, "right", "top")]
            spots += [(dx * s, dy * s, ha, va) for s in (1.8, 2.8) for dx, dy, ha, va in
                      ((r + 10, 14, "left", "bottom"), (r + 10, -14, "left", "top"),
                       (-r - 10, 14, "right", "bottom"), (-r - 10, -14, "right", "top"))]
            chosen = None
            for dx, dy, ha, va in spots:
                far = abs(dx) > r * 1.5 or abs(dy) > r * 1.5
                label = ax.annotate(names[i], (xs[i], ys[i]), xytext=(dx, dy), textcoords="offset points",
                                    ha=ha, va=va, fontsize=8.5, zorder=5,
                                    arrowprops={"arrowstyle": "-", "color": "#888888", "lw": 0.6} if far else None)
                box = label.get_window_extent(renderer).expanded(1.04, 1.15)
                clear = (frame.contains(box.x0, box.y0) and frame.contains(box.x1, box.y1)
                         and not any(box.overlaps(b) for b in placed)
                         and not any(box.overlaps(d) for j, d in enumerate(dots) if j != i))
                if clear:
                    chosen = box
                    break
                label.remove()
            if chosen is None and len(xs) > CROWD:
                continue
            if chosen is None:  # nowhere clear: keep the first spot rather than lose the name
                dx, dy, ha, va = spots[0]
                chosen = ax.annotate(names[i], (xs[i], ys[i]), xytext=(dx, dy), textcoords="offset points",
                                     ha=ha, va=va, fontsize=8.5, zorder=5).get_window_extent(renderer)
            placed.append(chosen)


def _pad_limits(ax, xs, ys, log_x=False, pad=0.12) -> None:
    lo, hi = min(xs), max(xs)
    if log_x:
        span = math.log10(hi / lo) or 1
        ax.set_xlim(lo / 10 ** (span * pad), hi * 10 ** (span * pad))
    else:
        span = (hi - lo) or abs(hi) or 1
        ax.set_xlim(max(0, lo - span * pad), hi + span * pad)
    span = (max(ys) - min(ys)) or 1
    ax.set_ylim(min(ys) - span * pad * 1.3, max(ys) + span * pad * 1.3)


def _missing(points, what="no published accuracy") -> str:
    left = [p.name for p in points if p.top1 is None]
    return f"Not shown ({what}): {', '.join(left)}." if left else ""


def accuracy_vs_ops(points: Sequence[ModelPoint], ops: str = "macs"):
    """Top-1 accuracy vs operations per image; bubble area proportional to parameters (Canziani 2016, Fig. 2)."""
    shown = [p for p in points if p.top1 is not None]
    fig, ax = _figure()
    ax.set_title("Top-1 accuracy vs operations (bubble area = parameters)")
    ax.set_xlabel(OPS_LABEL[ops])
    ax.set_ylabel("Top-1 accuracy, ImageNet val (%)")
    if not shown:
        ax.text(0.5, 0.5, "no model with a published accuracy", ha="center", transform=ax.transAxes)
        return fig
    biggest = max(p.params for p in shown)
    area = lambda n: MAX_BUBBLE * n / biggest  # noqa: E731
    colors = _colors(p.family for p in shown)
    xs, ys = [p.ops(ops) / 1e9 for p in shown], [p.top1 for p in shown]
    ax.scatter(xs, ys, s=[area(p.params) for p in shown], c=[colors[p.family] for p in shown], alpha=0.45,
               edgecolors="black", linewidths=0.6, zorder=3)
    ax.scatter(xs, ys, s=6, c="black", zorder=4)
    wide = min(xs) > 0 and max(xs) / min(xs) > 30  # e.g. MobileNets next to ViT-H: log scale, or one clump
    if wide:
        ax.set_xscale("log")
        _plain_ticks(ax.xaxis)
    _pad_limits(ax, xs, ys, log_x=wide, pad=0.14)
    res = sorted({p.resolution for p in shown})
    crowded = " Where points crowd, some labels are left out; the summary table lists every model." \
        if len(shown) > CROWD else ""
    _footnote(fig, f"Batch 1, each model at its native input size ({', '.join(f'{r}x{r}' for r in res)}). "
              + _missing(points) + crowded)
    _place_labels(ax, xs, ys, [p.name for p in shown], [math.sqrt(area(p.params) / math.pi) for p in shown])
    sizes = size_legend_values([p.params for p in shown])
    handles = [ax.scatter([], [], s=area(v), c="#dddddd", edgecolors="black", linewidths=0.6,
                          label=f"{_round_count(v)} parameters") for v in sizes]
    # Legend spacing is in font sizes; leave room for the largest reference bubble so none spills out.
    span = 2 * math.sqrt(area(max(sizes)) / math.pi) / 8.5
    ax.legend(handles=handles, loc="lower right", labelspacing=max(1.0, span * 0.6), borderpad=max(1.0, span * 0.5),
              handletextpad=max(1.0, span * 0.3), title="Bubble area", fontsize=8.5, framealpha=0.9)
    return fig


def _round_count(n: int) -> str:
    from .formatting import human

    return human(n)


def _hbars(points, values, title, xlabel, fmt):
    fig, ax = _figure(8.0, max(3.0, 0.32 * len(points) + 1.4))
    order = sorted(range(len(points)), key=lambda i: values[i])
    colors = _colors(p.family for p in points)
    ax.barh([points[i].name for i in order], [values[i] for i in order],
            color=[colors[points[i].family] for i in order], alpha=0.8)
    for rank, i in enumerate(order):
        ax.text(values[i], rank, " " + fmt(values[i]), va="center", fontsize=8)
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.grid(axis="y", visible=False)
    ax.set_xlim(0, max(values) * 1.15)
    return fig, ax


def accuracy_bars(points: Sequence[ModelPoint]):
    """Top-1 (and top-5) accuracy per model."""
    shown = [p for p in points if p.top1 is not None]
    if not shown:
        return _empty("Top-1 accuracy per model", "no model with a published accuracy")
    fig, ax = _hbars(shown, [p.top1 for p in shown], "Top-1 accuracy per model",
                     "Top-1 accuracy, ImageNet val (%)", lambda v: f"{v:.1f}")
    _footnote(fig, _missing(points))
    return fig


def accuracy_density(points: Sequence[ModelPoint]):
    """Top-1 accuracy per million parameters (Canziani 2016, Fig. 5): how well each parameter is used."""
    shown = [p for p in points if p.top1 is not None]
    if not shown:
        return _empty("Accuracy density", "no model with a published accuracy")
    fig, ax = _hbars(shown, [p.top1 / (p.params / 1e6) for p in shown],
                     "Accuracy density: top-1 per million parameters", "Top-1 accuracy (%) / parameters (M)",
                     lambda v: f"{v:.2f}")
    _footnote(fig, _missing(points))
    return fig


def ops_vs_params(points: Sequence[ModelPoint], ops: str = "macs"):
    """Operations vs parameters for every model, published accuracy or not (log-log)."""
    fig, ax = _figure()
    ax.set_title("Operations vs parameters")
    ax.set_xscale("log")
    ax.set_yscale("log")
    _plain_ticks(ax.xaxis)
    _plain_ticks(ax.yaxis)
    ax.set_xlabel("Parameters (M)")
    ax.set_ylabel(OPS_LABEL[ops])
    colors = _colors(p.family for p in points)
    xs, ys = [p.params / 1e6 for p in points], [p.ops(ops) / 1e9 for p in points]
    ax.scatter(xs, ys, s=36, c=[colors[p.family] for p in points], edgecolors="black", linewidths=0.5, zorder=3)
    lo, hi = min(ys), max(ys)
    ax.set_ylim(lo / (hi / lo) ** 0.12 if hi > lo else lo / 2, hi * (hi / lo) ** 0.12 if hi > lo else hi * 2)
    _pad_limits_log_x(ax, xs)
    _footnote(fig, "Batch 1, each model at its native input size; both figures from the analyzer.")
    _place_labels(ax, xs, ys, [p.name for p in points], [4] * len(points))
    return fig


def _pad_limits_log_x(ax, xs):
    lo, hi = min(xs), max(xs)
    f = (hi / lo) ** 0.15 if hi > lo else 2
    ax.set_xlim(lo / f, hi * f)


def _empty(title, why):
    fig, ax = _figure(8.0, 3.0)
    ax.set_title(title)
    ax.text(0.5, 0.5, why, ha="center", va="center", transform=ax.transAxes)
    ax.set_axis_off()
    return fig


def _plain_ticks(axis, decades: bool = True) -> None:
    """Tick labels as plain numbers (8, 0.5, 2000), not 2^3 or 5x10^-1: read at a glance on a slide.

    ``decades``: a log axis gets ticks at 1, 2 and 5 of each decade, so even a narrow range is labelled.
    """
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    if decades:
        axis.set_major_locator(LogLocator(subs=(1, 2, 5)))
    axis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    axis.set_minor_formatter(NullFormatter())


def _per_batch(cells, attr, title, ylabel, scale=1.0):
    import matplotlib

    fig, ax = _figure()
    ax.set_title(title)
    ax.set_xlabel("Batch size")
    ax.set_ylabel(ylabel)
    values = [getattr(c, attr) * scale for c in cells if getattr(c, attr) is not None]
    log_y = bool(values) and min(values) > 0 and max(values) / min(values) > 20  # log only for wide ranges
    ax.set_xscale("log", base=2)
    ax.set_xticks(sorted({c.batch for c in cells}))
    _plain_ticks(ax.xaxis, decades=False)
    if log_y:
        ax.set_yscale("log")
        _plain_ticks(ax.yaxis)
    groups = series(cells)
    colors = _colors(groups)
    any_oom = any_noisy = False
    top = matplotlib.transforms.blended_transform_factory(ax.transData, ax.transAxes)
    for name, group in groups.items():
        ok = [c for c in group if getattr(c, attr) is not None]
        ax.plot([c.batch for c in ok], [getattr(c, attr) * scale for c in ok], marker="o", color=colors[name],
                label=name, zorder=3)
        noisy = [c for c in ok if c.noisy]
        any_noisy |= bool(noisy)
        ax.scatter([c.batch for c in noisy], [getattr(c, attr) * scale for c in noisy], s=80, facecolors="none",
                   edgecolors="black", zorder=4)
        oom = [c for c in group if c.status == "oom"]
        any_oom |= bool(oom)
        ax.scatter([c.batch for c in oom], [0.96] * len(oom), marker="x", s=60, color=colors[name],
                   transform=top, zorder=4, clip_on=False)
    if any_oom:
        ax.text(0.01, 0.96, "x = out of memory", transform=ax.transAxes, fontsize=8, va="center")
    if not log_y:
        ax.set_ylim(0, (max(values) if values else 1) * 1.15)
    else:
        ax.set_ylim(top=ax.get_ylim()[1] * 1.6)
    ax.legend(fontsize=8, loc="best")
    _footnote(fig, "Circled points: timings flagged noisy (wide spread)." if any_noisy else "")
    return fig


def latency_vs_batch(cells: Sequence[BenchCell]):
    return _per_batch(cells, "latency_ms", "Latency vs batch size", "Median latency per batch (ms)")


def throughput_vs_batch(cells: Sequence[BenchCell]):
    return _per_batch(cells, "throughput", "Throughput vs batch size", "Throughput (images/s)")


def memory_vs_batch(cells: Sequence[BenchCell]):
    peak = max((c.peak_memory for c in cells if c.peak_memory), default=0)
    unit, scale = ("GB", 1e-9) if peak >= 1e9 else ("MB", 1e-6)
    return _per_batch(cells, "peak_memory", "Peak memory vs batch size", f"Peak memory ({unit})", scale=scale)


def ops_vs_latency(cells: Sequence[BenchCell], ops: str = "macs"):
    """Median latency vs MACs of the whole batch at the most common batch size, with a least-squares line."""
    batch = common_batch(cells)
    fig, ax = _figure()
    ax.set_title(f"Operations vs latency (batch {batch})")
    ax.set_xlabel(f"G-MACs per forward pass of the batch (multiply-accumulates, batch {batch})")
    ax.set_ylabel("Median latency (ms)")
    pts = [c for c in cells if c.batch == batch and c.latency_ms is not None and c.macs_per_image]
    if not pts:
        return _empty("Operations vs latency", "no timed result with known MACs")
    xs, ys = [c.macs_per_image * batch / 1e9 for c in pts], [c.latency_ms for c in pts]
    ax.scatter(xs, ys, s=36, color=PALETTE[0], edgecolors="black", linewidths=0.5, zorder=3)
    fit = linear_fit(xs, ys)
    if fit:
        slope, intercept, r2 = fit
        ends = [0, max(xs) * 1.05]
        ax.plot(ends, [slope * x + intercept for x in ends], color=PALETTE[1], lw=1,
                label=f"fit: {slope:.3g} ms per G-MAC + {intercept:.3g} ms (R\u00b2 = {r2:.3f})")
        ax.legend(fontsize=8, loc="upper left")
    _pad_limits(ax, xs, ys, pad=0.15)
    ax.set_xlim(left=0)
    _place_labels(ax, xs, ys, [c.series for c in pts], [4] * len(pts))
    return fig


def accuracy_vs_throughput(points: Sequence[ModelPoint], cells: Sequence[BenchCell]):
    """Top-1 accuracy vs the best throughput each model reached (any batch size)."""
    best = best_throughput(cells)
    shown = [p for p in points if p.top1 is not None and p.name in best]
    if not shown:
        return _empty("Accuracy vs throughput", "no benchmarked model with a published accuracy")
    fig, ax = _figure()
    ax.set_title("Top-1 accuracy vs best throughput")
    ax.set_xscale("log")
    _plain_ticks(ax.xaxis)
    ax.set_xlabel("Best throughput over the batch sizes tried (images/s)")
    ax.set_ylabel("Top-1 accuracy, ImageNet val (%)")
    colors = _colors(p.family for p in shown)
    xs, ys = [best[p.name][0] for p in shown], [p.top1 for p in shown]
    ax.scatter(xs, ys, s=36, c=[colors[p.family] for p in shown], edgecolors="black", linewidths=0.5, zorder=3)
    _pad_limits(ax, xs, ys, log_x=True, pad=0.15)
    _footnote(fig, "(bN) = batch size of the best throughput.")
    _place_labels(ax, xs, ys, [f"{p.name} (b{best[p.name][1]})" for p in shown], [4] * len(shown))
    return fig


@dataclass(frozen=True)
class ChartKind:
    name: str
    draw: Callable  # (points, cells, ops) -> Figure
    needs_bench: bool
    caption: str


CHARTS = {k.name: k for k in (
    ChartKind("accuracy-vs-ops", lambda p, c, o: accuracy_vs_ops(p, o), False,
              "Top-1 accuracy against operations per image; bubble area proportional to parameters "
              "(after Canziani, Paszke and Culurciello 2016, Fig. 2)."),
    ChartKind("accuracy-bars", lambda p, c, o: accuracy_bars(p), False, "Published top-1 accuracy per model."),
    ChartKind("accuracy-density", lambda p, c, o: accuracy_density(p), False,
              "Top-1 accuracy per million parameters: how efficiently each model uses its parameters."),
    ChartKind("ops-vs-params", lambda p, c, o: ops_vs_params(p, o), False,
              "Operations against parameters for every model, with or without a published accuracy."),
    ChartKind("latency-vs-batch", lambda p, c, o: latency_vs_batch(c), True, "Median latency per batch."),
    ChartKind("throughput-vs-batch", lambda p, c, o: throughput_vs_batch(c), True, "Images per second."),
    ChartKind("memory-vs-batch", lambda p, c, o: memory_vs_batch(c), True,
              "Peak memory measured during the timed runs; x marks batch sizes that ran out of memory."),
    ChartKind("ops-vs-latency", lambda p, c, o: ops_vs_latency(c), True,
              "Latency against the analyzer's MACs at one batch size, with a least-squares line."),
    ChartKind("accuracy-vs-throughput", lambda p, c, o: accuracy_vs_throughput(p, c), True,
              "Published top-1 accuracy against the best throughput measured."),
)}


def chart_kind(name: str) -> ChartKind:
    if name not in CHARTS:
        raise InputError(f"unknown chart kind {name!r}; choose from {', '.join(CHARTS)}")
    return CHARTS[name]


# --- rendering ------------------------------------------------------------------------------------------------

def _render(fig, fmt: str, salt: str) -> bytes:
    import matplotlib

    # A fixed salt and no date: the same figure gives the same file, and ids differ between inlined charts.
    with matplotlib.rc_context({**STYLE, "svg.hashsalt": salt}):
        buf = io.BytesIO()
        fig.savefig(buf, format=fmt, dpi=200 if fmt == "png" else 72,
                    metadata={"Date": None} if fmt == "svg" else {"Software": None})
        return buf.getvalue()


def to_svg(fig, salt: str = "cnnprofile") -> str:
    """The figure as an ``<svg>`` element, ready to inline in HTML."""
    text = _render(fig, "svg", salt).decode("utf-8")
    return text[text.index("<svg"):]


def save(fig, path: str, salt: str = "cnnprofile") -> str:
    """Write ``fig`` to ``path`` (.svg or .png) atomically; a one-line error if that cannot be done."""
    ext = os.path.splitext(path)[1].lower()
    if ext not in (".svg", ".png"):
        raise InputError(f"cannot write a chart to {path!r}: the file name must end in .svg or .png")
    write_atomic(path, _render(fig, ext[1:], salt))
    return path


def write_atomic(path: str, data: bytes) -> None:
    """Write ``data`` to a temporary file beside ``path`` and rename it over ``path``: all or nothing."""
    parent = os.path.dirname(os.path.abspath(path))
    if os.path.isdir(path):
        raise InputError(f"cannot write {path!r}: it is a directory")
    try:
        os.makedirs(parent, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=parent, prefix=".tmp-", suffix=os.path.splitext(path)[1])
    except OSError as e:
        raise InputError(f"cannot write {path!r}: {e.strerror or e}") from None
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except OSError as e:
        os.unlink(tmp)
        raise InputError(f"cannot write {path!r}: {e.strerror or e}") from None
