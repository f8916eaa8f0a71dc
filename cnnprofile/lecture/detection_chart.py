"""The detection section's chart: MACs per image against regions predicted, one line per approach."""
from __future__ import annotations

from ..present.charts.style import LINE_STYLES, figure, footnote, plain_ticks

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
    for k, (approach, group) in enumerate(approaches.items()):
        xs, ys = [p.regions for p in group], [p.macs / 1e9 for p in group]
        ax.plot(xs, ys, LINE_STYLES[k % len(LINE_STYLES)], marker=MARKERS[k % len(MARKERS)], label=approach,
                gid="approach:" + approach.replace(" ", "_"))  # not "model:": the lines are approaches
        for p, x, y in zip(group, xs, ys):
            ax.annotate(f"{p.image}px", (x, y), textcoords="offset points", xytext=(4, 4), fontsize=7)
    ax.set_xscale("log")
    ax.set_yscale("log")
    plain_ticks(ax.xaxis)
    plain_ticks(ax.yaxis)
    ax.legend(loc="upper left", fontsize=8)
    footnote(fig, "Batch 1, square images; sliding windows: VGG-16 on every 224x224 window 32 pixels apart; "
                  "YOLOv2 regions are grid cells of 5 boxes each (YOLOv1: 2).")
    return fig
