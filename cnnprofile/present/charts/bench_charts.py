"""Charts of benchmark results: per batch size, operations vs latency, accuracy vs throughput."""
from __future__ import annotations

from .data import ChartData, best_throughput, common_batch, linear_fit, series
from .labels import place_labels
from .style import LINE_STYLES, empty, figure, footnote, gid, legend_outside, pad_limits, plain_ticks

OOM = "oom"  # the id suffix of out-of-memory marks
PREDICTED, MEASURED = "predicted", "measured"  # the id suffixes of the memory chart's lines and points
MARKERS = ("o", "s", "^", "D")  # the measured points of a model's configurations, in the order of LINE_STYLES
# How a measured peak was taken, for the memory chart's note (BenchResult.peak_memory_kind).
MEASURED_AS = {"cuda_max_allocated": "torch.cuda.max_memory_allocated",
               "rss_delta": "the growth of the resident set (includes allocator slack and the runtime's own memory)"}
MIN_FIT = 3  # models needed before ops vs latency draws a least-squares line


def _per_batch(data: ChartData, attr, title, ylabel, scale=1.0, footer="", measured_only=False):
    """One line per series over batch sizes. ``measured_only``: leave out cells without the figure (power is
    optional per device), out-of-memory marks included."""
    import matplotlib

    cells = [c for c in data.cells if getattr(c, attr) is not None] if measured_only else list(data.cells)
    fig, ax = figure()
    ax.set_title(title)
    ax.set_xlabel("Batch size")
    ax.set_ylabel(ylabel)
    values = [getattr(c, attr) * scale for c in cells if getattr(c, attr) is not None]
    log_y = bool(values) and min(values) > 0 and max(values) / min(values) > 20  # log only for wide ranges
    ax.set_xscale("log", base=2)
    ax.set_xticks(sorted({c.batch for c in cells}))
    plain_ticks(ax.xaxis, decades=False)
    if log_y:
        ax.set_yscale("log")
        plain_ticks(ax.yaxis)
    any_oom = any_noisy = False
    configs: dict = {}  # model -> its series so far: a second configuration of a model gets a second line style
    top = matplotlib.transforms.blended_transform_factory(ax.transData, ax.transAxes)
    for name, group in series(cells).items():
        model = group[0].model
        style = LINE_STYLES[len(configs.setdefault(model, [])) % len(LINE_STYLES)]
        configs[model].append(name)
        colour = data.colour(model)
        ok = [c for c in group if getattr(c, attr) is not None]
        ax.plot([c.batch for c in ok], [getattr(c, attr) * scale for c in ok], marker="o", color=colour,
                linestyle=style, label=name, zorder=3, gid=gid(name))
        noisy = [c for c in ok if c.noisy]
        any_noisy |= bool(noisy)
        ax.scatter([c.batch for c in noisy], [getattr(c, attr) * scale for c in noisy], s=80, facecolors="none",
                   edgecolors="black", zorder=4)
        oom = [c for c in group if c.status == "oom"]
        any_oom |= bool(oom)
        if oom:
            ax.scatter([c.batch for c in oom], [0.96] * len(oom), marker="x", s=60, color=colour,
                       transform=top, zorder=4, clip_on=False, gid=gid(name, OOM))
    if any_oom:
        ax.text(0.01, 0.96, "x = out of memory", transform=ax.transAxes, fontsize=8, va="center")
    if not log_y:
        ax.set_ylim(0, (max(values) if values else 1) * 1.15)
    else:
        ax.set_ylim(top=ax.get_ylim()[1] * 1.6)
    legend_outside(ax)
    notes = [footer] if footer else []
    notes += ["Circled points: timings flagged noisy (wide spread)."] if any_noisy else []
    footnote(fig, " ".join(notes))
    return fig


def latency_vs_batch(data: ChartData):
    return _per_batch(data, "latency_ms", "Latency vs batch size", "Median latency per batch (ms)")


def throughput_vs_batch(data: ChartData):
    return _per_batch(data, "throughput", "Throughput vs batch size", "Throughput (images/s)")


def memory_vs_batch(data: ChartData):
    """The predicted peak as a line per series over batch sizes, the measured peak as points where the bench ran,
    and x at the top where it ran out of memory."""
    import matplotlib

    lines = [m for m in data.memory if m.peaks]
    measured = [c for c in data.cells if c.peak_memory]
    failed = [f"No prediction for {m.series}: {m.error}." for m in data.memory if m.error]
    if not lines and not data.cells:
        fig = empty("Peak memory vs batch size", "no memory prediction and no benchmark result")
        footnote(fig, " ".join(failed))
        return fig
    values = [p for m in lines for p in m.peaks] + [c.peak_memory for c in measured]
    unit, scale = ("GB", 1e-9) if max(values, default=0) >= 1e9 else ("MB", 1e-6)
    fig, ax = figure()
    ax.set_title("Peak memory vs batch size")
    ax.set_xlabel("Batch size")
    ax.set_ylabel(f"Peak memory ({unit})")
    ax.set_xscale("log", base=2)
    ax.set_xticks(sorted({b for m in lines for b in m.batches} | {c.batch for c in data.cells}))
    plain_ticks(ax.xaxis, decades=False)
    log_y = bool(values) and min(values) > 0 and max(values) / min(values) > 20
    if log_y:
        ax.set_yscale("log")
        plain_ticks(ax.yaxis)
    configs: dict = {}  # model -> its series so far: each configuration of a model gets its own line style

    def style(series: str, model: str) -> int:
        known = configs.setdefault(model, [])
        if series not in known:
            known.append(series)
        return known.index(series)

    # Lines only, all of one step (the report without results): the legend's title says it once, not per line.
    steps = {m.step for m in lines}
    one_step = not measured and len(steps) == 1
    for m in lines:
        ax.plot(m.batches, [p * scale for p in m.peaks], color=data.colour(m.model),
                linestyle=LINE_STYLES[style(m.series, m.model) % len(LINE_STYLES)], lw=1.5,
                label=m.series if one_step else f"{m.series}: predicted {m.step}", zorder=2,
                gid=gid(m.series, PREDICTED))
    top = matplotlib.transforms.blended_transform_factory(ax.transData, ax.transAxes)
    for name, group in series(data.cells).items():
        colour, ok = data.colour(group[0].model), [c for c in group if c.peak_memory]
        if ok:  # a configuration's points have the shape that goes with its line's style
            marker = MARKERS[style(name, group[0].model) % len(MARKERS)]
            ax.scatter([c.batch for c in ok], [c.peak_memory * scale for c in ok], s=36, color=colour, marker=marker,
                       edgecolors="black", linewidths=0.5, zorder=3, label=f"{name}: measured", gid=gid(name, MEASURED))
        oom = [c for c in group if c.status == "oom"]
        if oom:
            ax.scatter([c.batch for c in oom], [0.96] * len(oom), marker="x", s=60, color=colour, transform=top,
                       zorder=4, clip_on=False, gid=gid(name, OOM))
    if any(c.status == "oom" for c in data.cells):
        ax.text(0.01, 0.96, "x = out of memory", transform=ax.transAxes, fontsize=8, va="center")
    if log_y:
        ax.set_ylim(top=ax.get_ylim()[1] * 1.6)
    else:
        ax.set_ylim(0, (max(values) * scale if values else 1) * 1.15)
    legend_outside(ax, fontsize=7, title=f"Predicted {steps.pop()}" if one_step else None, title_fontsize=7.5)
    notes = []
    if lines:
        devices = ", ".join(sorted({"CUDA's caching allocator" if m.device == "cuda" else "the CPU allocator"
                                    for m in lines}))
        notes.append(f"Lines: the peak cnnprofile.memory predicts for each model's step ({devices}; weights, "
                     "input, activations and temporaries, and for a training step gradients and optimizer state).")
    kinds = dict.fromkeys(c.memory_kind for c in measured if c.memory_kind)
    if measured:
        notes.append("Points: the peak the bench measured over its timed runs"
                     + (f" ({'; '.join(MEASURED_AS.get(k, k) for k in kinds)})." if kinds else "."))
    notes += failed
    footnote(fig, " ".join(notes))
    return fig


def power_vs_batch(data: ChartData):
    """Average board power over the throughput window (Canziani 2016, Fig. 6)."""
    return _per_batch(data, "power_w", "Power vs batch size", "Average board power (W)",
                      footer="Board power averaged over the throughput window; results without a power "
                             "reading are left out.", measured_only=True)


def images_per_joule_vs_batch(data: ChartData):
    """Images per joule: throughput over power, the energy efficiency of each model at each batch size."""
    return _per_batch(data, "images_per_joule", "Energy efficiency vs batch size", "Images per joule",
                      footer="Images per joule = 1 / energy per image over the throughput window; results "
                             "without a power reading are left out.", measured_only=True)


def ops_vs_latency(data: ChartData):
    """Median latency vs MACs of the whole batch at the most common batch size, with a least-squares line."""
    batch = common_batch(data.cells)
    pts = [c for c in data.cells if c.batch == batch and c.latency_ms is not None and c.macs_per_image]
    if not pts:
        return empty("Operations vs latency", "no timed result with known MACs")
    fig, ax = figure()
    ax.set_title(f"Operations vs latency (batch {batch})")
    ax.set_xlabel(f"G-MACs per forward pass of the batch (multiply-accumulates, batch {batch})")
    ax.set_ylabel("Median latency (ms)")
    xs, ys = [c.macs_per_image * batch / 1e9 for c in pts], [c.latency_ms for c in pts]
    for c, x, y in zip(pts, xs, ys):
        ax.scatter([x], [y], s=36, color=data.colour(c.model), edgecolors="black", linewidths=0.5, zorder=3,
                   gid=gid(c.series))
    # Two points always fit a line exactly (R^2 = 1): it would say nothing about how latency follows MACs.
    fit = linear_fit(xs, ys) if len(pts) >= MIN_FIT else None
    if fit is None:
        footnote(fig, f"No fit: a least-squares line needs at least {MIN_FIT} models timed at batch {batch}.")
    if fit:
        slope, intercept, r2 = fit
        ends = [0, max(xs) * 1.05]
        ax.plot(ends, [slope * x + intercept for x in ends], color="#333333", lw=1,
                label=f"fit: {slope:.3g} ms per G-MAC + {intercept:.3g} ms (R\u00b2 = {r2:.3f})")
        legend_outside(ax)
    pad_limits(ax, xs, ys, pad=0.15)
    ax.set_xlim(left=0)
    place_labels(ax, xs, ys, [c.series for c in pts], [4] * len(pts))
    return fig


def accuracy_vs_throughput(data: ChartData):
    """Top-1 accuracy vs the best throughput each model reached (any batch size)."""
    best = best_throughput(data.cells)
    shown = [p for p in data.points if p.top1 is not None and p.name in best]
    if not shown:
        return empty("Accuracy vs throughput", "no benchmarked model with a published accuracy")
    fig, ax = figure()
    ax.set_title("Top-1 accuracy vs best throughput")
    ax.set_xscale("log")
    plain_ticks(ax.xaxis)
    ax.set_xlabel("Best throughput over the batch sizes tried (images/s)")
    ax.set_ylabel("Top-1 accuracy, ImageNet val (%)")
    xs, ys = [best[p.name][0] for p in shown], [p.top1 for p in shown]
    for p, x, y in zip(shown, xs, ys):
        ax.scatter([x], [y], s=36, c=data.colour(p.name), edgecolors="black", linewidths=0.5, zorder=3,
                   gid=gid(p.name))
    pad_limits(ax, xs, ys, log_x=True, pad=0.15)
    footnote(fig, "(bN) = batch size of the best throughput.")
    place_labels(ax, xs, ys, [f"{p.name} (b{best[p.name][1]})" for p in shown], [4] * len(shown))
    return fig
