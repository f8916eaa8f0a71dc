"""The roofline chart: every layer at its arithmetic intensity, under the device's roof (log-log)."""
from __future__ import annotations

from .data import ChartData
from .style import empty, figure, footnote, gid, legend_outside, plain_ticks


def roofline(data: ChartData):
    """Layers as points on FLOPs per byte vs attainable TFLOP/s, with the device's memory and compute roofs
    (Williams, Waterman and Patterson 2009)."""
    roof, pts = data.roof, data.roof_points
    title = "Roofline: attainable FLOP/s of every layer"
    if roof is None or not pts:
        return empty(title, "name a device (--device-peak) to draw the roofline")
    fig, ax = figure()
    ax.set_title(f"{title} on {roof.device} ({roof.precision})")
    ax.set_xlabel("Arithmetic intensity (FLOPs per byte moved)")
    ax.set_ylabel("Attainable TFLOP/s (log)")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ridge = roof.peak_tflops * 1e3 / roof.bandwidth_gbs
    lo = min(min(p.intensity for p in pts), ridge) / 3
    hi = max(max(p.intensity for p in pts), ridge) * 3
    ax.plot([lo, ridge, hi], [roof.bandwidth_gbs * lo / 1e3, roof.peak_tflops, roof.peak_tflops], color="black",
            linewidth=1.6, zorder=2, gid="roof")
    ax.axvline(ridge, color="#999999", linestyle=":", linewidth=1, zorder=1)
    ax.text(ridge, roof.peak_tflops * 1.15, f"ridge {ridge:.3g} FLOPs/B", fontsize=8, ha="center", va="bottom")
    ax.text(lo * 1.3, roof.bandwidth_gbs * lo * 1.3 / 1e3 * 1.6, f"{roof.bandwidth_gbs:g} GB/s", fontsize=8,
            rotation=0, ha="left", va="bottom", color="#333333")
    ax.text(hi / 1.3, roof.peak_tflops / 1.25, f"{roof.peak_tflops:g} TFLOP/s", fontsize=8, ha="right", va="top")
    models = list(dict.fromkeys(p.model for p in pts))
    for m in models:
        mine = [p for p in pts if p.model == m]
        ax.scatter([p.intensity for p in mine], [p.attainable_tflops for p in mine], s=22, c=data.colour(m),
                   edgecolors="black", linewidths=0.4, alpha=0.8, zorder=3, label=m, gid=gid(m))
    ax.set_xlim(lo, hi)
    ax.set_ylim(roof.bandwidth_gbs * lo / 1e3 / 2, roof.peak_tflops * 2.5)
    plain_ticks(ax.xaxis)
    plain_ticks(ax.yaxis)
    legend_outside(ax)
    memory = sum(p.bound == "memory" for p in pts)
    footnote(fig, f"Batch {roof.batch}; each point is one layer row (FLOPs > 0) at min(peak, bandwidth x "
                  f"intensity): {memory} of {len(pts)} layers sit under the memory roof. Bytes: every operand "
                  "read once per op (an ideal cache) plus every output written.")
    return fig
