"""The look shared by every chart: style, figure, axes helpers. matplotlib is imported only when drawing."""
from __future__ import annotations

import math

STYLE = {"font.family": "sans-serif", "font.sans-serif": ["DejaVu Sans", "Arial", "Helvetica"],
         "font.size": 10, "axes.titlesize": 12, "axes.titleweight": "bold", "axes.grid": True,
         "grid.alpha": 0.3, "axes.spines.top": False, "axes.spines.right": False,
         "svg.fonttype": "none"}  # text stays text in the SVG: searchable, and escaped by matplotlib
OPS_LABEL = {"macs": "G-MACs per image (multiply-accumulates)",
             "flops": "G-FLOPs per image (2 x MACs + other arithmetic)"}
LINE_STYLES = ("-", "--", ":", "-.")  # one per configuration of the same model; the colour stays the model's


def gid(series: str, part: str = "") -> str:
    """The id of an artist drawn for one model (or one model's configuration): tests and SVG readers find the
    model's marks by it. Spaces become "_" so the id stays one token in the SVG."""
    return "model:" + series.replace(" ", "_") + (f":{part}" if part else "")


def figure(width=8.0, height=5.6):
    import matplotlib
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    with matplotlib.rc_context(STYLE):
        fig = Figure(figsize=(width, height), layout="constrained")
        FigureCanvasAgg(fig)
        return fig, fig.add_subplot()


def footnote(fig, text: str) -> None:
    if text:
        # Keep the note out of the constrained layout's way: reserve a band at the bottom for it.
        lines = 1 + len(text) // 150
        band = (0.03 + 0.028 * lines) * 5.6 / fig.get_figheight()
        fig.get_layout_engine().set(rect=(0, band, 1, 1 - band))
        fig.text(0.01, 0.01, text, fontsize=8, color="#555555", ha="left", va="bottom", wrap=True)


def empty(title, why):
    fig, ax = figure(8.0, 3.0)
    ax.set_title(title)
    ax.text(0.5, 0.5, why, ha="center", va="center", transform=ax.transAxes)
    ax.set_axis_off()
    return fig


def pad_limits(ax, xs, ys, log_x=False, pad=0.12) -> None:
    lo, hi = min(xs), max(xs)
    if log_x:
        span = math.log10(hi / lo) or 1
        ax.set_xlim(lo / 10 ** (span * pad), hi * 10 ** (span * pad))
    else:
        span = (hi - lo) or abs(hi) or 1
        ax.set_xlim(max(0, lo - span * pad), hi + span * pad)
    span = (max(ys) - min(ys)) or 1
    ax.set_ylim(min(ys) - span * pad * 1.3, max(ys) + span * pad * 1.3)


def pad_limits_log_x(ax, xs):
    lo, hi = min(xs), max(xs)
    f = (hi / lo) ** 0.15 if hi > lo else 2
    ax.set_xlim(lo / f, hi * f)


def plain_ticks(axis, decades: bool = True) -> None:
    """Tick labels as plain numbers (8, 0.5, 2000), not 2^3 or 5x10^-1: read at a glance on a slide.

    ``decades``: a log axis gets ticks at 1, 2 and 5 of each decade, so even a narrow range is labelled.
    """
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    if decades:
        axis.set_major_locator(LogLocator(subs=(1, 2, 5)))
    axis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    axis.set_minor_formatter(NullFormatter())


def legend_outside(ax, **kwargs):
    """The legend to the right of the plot, never over a line or a point; the figure widens by the legend's
    width, so the plot keeps its size however many entries there are. Call it before placing labels."""
    handles = kwargs.get("handles") or ax.get_legend_handles_labels()[0]
    if not handles:
        return None
    kwargs.setdefault("fontsize", 8)
    fig = ax.figure
    # One column as long as the entries fit the figure's height (an entry takes about 1.55 font sizes).
    rows = max(1, int(fig.get_figheight() * 72 * 0.9 / (kwargs["fontsize"] * 1.55)))
    legend = ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0,
                       ncols=1 + (len(handles) - 1) // rows, **kwargs)
    width = legend.get_window_extent(fig.canvas.get_renderer()).width / fig.dpi
    fig.set_figwidth(fig.get_figwidth() + width + 0.15)
    return legend
