"""The detection section's chart: MACs per image against regions predicted, one line per approach."""
from __future__ import annotations

from ..present.charts.labels import place_labels
from ..present.charts.style import LINE_STYLES, figure, footnote, legend_outside, plain_ticks

MARKERS = ("o", "s", "^", "D")


def macs_vs_regions(points):
    """Log-log: each approach's points over image sizes joined in order, labelled with the image side."""
    fig, ax = figure()
    ax.set_title("Detection: MACs per image vs regions predicted")
    ax.set_xlabel("regions predicted per image (windows or output cells)")
    ax.set_ylabel("G-MACs per image (multiply-accumulates)")
    approaches: dict = {}
    for p in points:
        approaches.setdefault(p.approach, []).append(p)
    at, labels = [], []
    for k, (approach, group) in enumerate(approaches.items()):
        xs, ys = [p.regions for p in group], [p.macs / 1e9 for p in group]
        ax.plot(xs, ys, LINE_STYLES[k % len(LINE_STYLES)], marker=MARKERS[k % len(MARKERS)], label=approach,
                gid="approach:" + approach.replace(" ", "_"))  # not "model:": the lines are approaches
        at += list(zip(xs, ys))
        labels += [f"{p.image}px" for p in group]
    ax.set_xscale("log")
    ax.set_yscale("log")
    plain_ticks(ax.xaxis)
    plain_ticks(ax.yaxis)
    legend_outside(ax)
    footnote(fig, "Batch 1, square images; sliding windows: VGG-16 on every 224x224 window 32 pixels apart; "
                  "YOLOv2 regions are grid cells of 5 boxes each (YOLOv1: 2).")
    # placed last, in the final layout, so no label sits on another (the 224px points of two approaches meet)
    place_labels(ax, [x for x, _ in at], [y for _, y in at], labels, [4] * len(at))
    return fig
