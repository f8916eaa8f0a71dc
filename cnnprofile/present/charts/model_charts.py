"""Charts of the analyzer's figures and published accuracy (no benchmark needed)."""
from __future__ import annotations

import math

from .data import ChartData, size_legend_values
from .labels import CROWD, place_labels
from .style import (OPS_LABEL, empty, figure, footnote, gid, legend_outside, pad_limits, pad_limits_log_x,
                    plain_ticks)

MAX_BUBBLE = 2400.0  # points^2 of the largest bubble


def _missing(points, what="no published accuracy") -> str:
    left = [p.name for p in points if p.top1 is None]
    return f"Not shown ({what}): {', '.join(left)}." if left else ""


def _round_count(n: int) -> str:
    from ..formatting import human

    return human(n)


def _scatter_models(ax, data: ChartData, shown, xs, ys, **kw) -> None:
    """One scatter per model, so each model's marks carry its id and its colour from the shared map."""
    sizes = kw.pop("sizes", None)
    for i, p in enumerate(shown):
        ax.scatter([xs[i]], [ys[i]], s=sizes[i] if sizes else 36, c=data.colour(p.name), gid=gid(p.name),
                   edgecolors="black", zorder=3, **kw)


def accuracy_vs_ops(data: ChartData):
    """Top-1 accuracy vs operations per image; bubble area proportional to parameters (Canziani 2016, Fig. 2)."""
    points, ops = data.points, data.ops
    shown = [p for p in points if p.top1 is not None]
    fig, ax = figure()
    ax.set_title("Top-1 accuracy vs operations (bubble area = parameters)")
    ax.set_xlabel(OPS_LABEL[ops])
    ax.set_ylabel("Top-1 accuracy, ImageNet val (%)")
    if not shown:
        ax.text(0.5, 0.5, "no model with a published accuracy", ha="center", transform=ax.transAxes)
        return fig
    biggest = max(p.params for p in shown)

    def area(n):
        return MAX_BUBBLE * n / biggest

    xs, ys = [p.ops(ops) / 1e9 for p in shown], [p.top1 for p in shown]
    _scatter_models(ax, data, shown, xs, ys, sizes=[area(p.params) for p in shown], alpha=0.45, linewidths=0.6)
    ax.scatter(xs, ys, s=6, c="black", zorder=4)
    wide = min(xs) > 0 and max(xs) / min(xs) > 30  # e.g. MobileNets next to ViT-H: log scale, or one clump
    if wide:
        ax.set_xscale("log")
        plain_ticks(ax.xaxis)
    pad_limits(ax, xs, ys, log_x=wide, pad=0.14)
    res = sorted({p.resolution for p in shown})
    crowded = " Where points crowd, some labels are left out; the summary table lists every model." \
        if len(shown) > CROWD else ""
    footnote(fig, f"Batch 1, each model at its native input size ({', '.join(f'{r}x{r}' for r in res)}). "
             + _missing(points) + crowded)
    sizes = size_legend_values([p.params for p in shown])
    handles = [ax.scatter([], [], s=area(v), c="#dddddd", edgecolors="black", linewidths=0.6,
                          label=f"{_round_count(v)} parameters") for v in sizes]
    # Legend spacing is in font sizes; leave room for the largest reference bubble so none spills out.
    span = 2 * math.sqrt(area(max(sizes)) / math.pi) / 8.5
    legend_outside(ax, handles=handles, labelspacing=max(1.0, span * 0.6), borderpad=max(1.0, span * 0.5),
                   handletextpad=max(1.0, span * 0.3), title="Bubble area", fontsize=8.5, framealpha=0.9)
    place_labels(ax, xs, ys, [p.name for p in shown], [math.sqrt(area(p.params) / math.pi) for p in shown])
    return fig


def _hbars(data: ChartData, points, values, title, xlabel, fmt):
    fig, ax = figure(8.0, max(3.0, 0.32 * len(points) + 1.4))
    order = sorted(range(len(points)), key=lambda i: values[i])
    bars = ax.barh([points[i].name for i in order], [values[i] for i in order],
                   color=[data.colour(points[i].name) for i in order], alpha=0.8)
    for rank, (i, bar) in enumerate(zip(order, bars)):
        bar.set_gid(gid(points[i].name))
        ax.text(values[i], rank, " " + fmt(values[i]), va="center", fontsize=8)
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.grid(axis="y", visible=False)
    ax.set_xlim(0, max(values) * 1.15)
    return fig


def accuracy_bars(data: ChartData):
    """Top-1 accuracy per model."""
    shown = [p for p in data.points if p.top1 is not None]
    if not shown:
        return empty("Top-1 accuracy per model", "no model with a published accuracy")
    fig = _hbars(data, shown, [p.top1 for p in shown], "Top-1 accuracy per model",
                     "Top-1 accuracy, ImageNet val (%)", lambda v: f"{v:.1f}")
    footnote(fig, _missing(data.points))
    return fig


def accuracy_density(data: ChartData):
    """Top-1 accuracy per million parameters (Canziani 2016, Fig. 5): how well each parameter is used."""
    shown = [p for p in data.points if p.top1 is not None]
    if not shown:
        return empty("Accuracy density", "no model with a published accuracy")
    fig = _hbars(data, shown, [p.top1 / (p.params / 1e6) for p in shown],
                     "Accuracy density: top-1 per million parameters", "Top-1 accuracy (%) / parameters (M)",
                     lambda v: f"{v:.2f}")
    footnote(fig, _missing(data.points))
    return fig


def ops_vs_params(data: ChartData):
    """Operations vs parameters for every model, published accuracy or not (log-log)."""
    points, ops = data.points, data.ops
    if not points:
        return empty("Operations vs parameters", "no model")
    fig, ax = figure()
    ax.set_title("Operations vs parameters")
    ax.set_xscale("log")
    ax.set_yscale("log")
    plain_ticks(ax.xaxis)
    plain_ticks(ax.yaxis)
    ax.set_xlabel("Parameters (M)")
    ax.set_ylabel(OPS_LABEL[ops])
    xs, ys = [p.params / 1e6 for p in points], [p.ops(ops) / 1e9 for p in points]
    _scatter_models(ax, data, points, xs, ys, linewidths=0.5)
    lo, hi = min(ys), max(ys)
    ax.set_ylim(lo / (hi / lo) ** 0.12 if hi > lo else lo / 2, hi * (hi / lo) ** 0.12 if hi > lo else hi * 2)
    pad_limits_log_x(ax, xs)
    footnote(fig, "Batch 1, each model at its native input size; both figures from the analyzer.")
    place_labels(ax, xs, ys, [p.name for p in points], [4] * len(points))
    return fig
