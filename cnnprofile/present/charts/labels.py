"""Label placement: every point named, no label over another label or point."""
from __future__ import annotations

import math
from typing import Sequence

from .style import STYLE

CROWD = 30  # above this many points, a label with no clear spot is left out rather than drawn over others
LABEL = "label:"  # the id prefix of a point's label: SVG readers and tests find the labels by it
FONT_SIZE = 8.5
RINGS = (12, 24, 38, 56, 80, 110)  # points beyond the nearest spots where a label may go, with a leader line
ANGLES = 16


def short_names(names: Sequence[str]) -> list:
    """Labels without the ``torchvision:`` prefix wherever that leaves them unambiguous."""
    shorts = [n.split(":", 1)[1] if n.startswith("torchvision:") else n for n in names]
    return [s if shorts.count(s) == 1 else n for n, s in zip(names, shorts)]


def _align(dx: float, dy: float) -> tuple:
    """The alignment that puts a label on the far side of its offset, so it grows away from its point."""
    ha = "left" if dx > 0.3 * abs(dy) else "right" if dx < -0.3 * abs(dy) else "center"
    va = "bottom" if dy > 0.3 * abs(dx) else "top" if dy < -0.3 * abs(dx) else "center"
    return ha, va


def _spots(r: float) -> list:
    """Offsets (points) and alignments to try, nearest first: around the point, then rings further out (those
    get a leader line back to the point)."""
    near = [(r, 0), (-r, 0), (0, r), (0, -r), (r * .7, r * .7), (r * .7, -r * .7), (-r * .7, r * .7),
            (-r * .7, -r * .7)]
    far = [(round((r + ring) * math.cos(a), 2), round((r + ring) * math.sin(a), 2))
           for ring in RINGS for a in (2 * math.pi * k / ANGLES for k in range(ANGLES))]
    return [(dx, dy, *_align(dx, dy)) for dx, dy in near + far]


def place_labels(ax, xs, ys, names, radii) -> list:
    """Label every point, trying spots around it until the label overlaps no other label or point and stays in
    the plot; returns the names that found no clear spot anywhere (left out, and said so on the chart).

    Call it last, once the figure's size, legend and notes are final: a label is placed in display space.
    """
    names = short_names(names)
    # ids stay unique where two points share a name (an image size on several lines)
    ids = [n if names.count(n) == 1 else f"{n}#{i}" for i, n in enumerate(names)]
    import matplotlib
    from matplotlib.text import Text

    with matplotlib.rc_context(STYLE):
        renderer = ax.figure.canvas.get_renderer()
        ax.figure.draw_without_rendering()  # fixes the layout so display coordinates are final
        to_px = ax.transData.transform
        pt = ax.figure.dpi / 72
        dots = [matplotlib.transforms.Bbox.from_bounds(*(to_px((x, y)) - 2 * pt), 4 * pt, 4 * pt)
                for x, y in zip(xs, ys)]
        frame, placed, left_out = ax.get_window_extent(renderer), [], []
        for i in sorted(range(len(xs)), key=lambda i: -ys[i]):
            r = radii[i] + 2
            chosen = None
            for dx, dy, ha, va in _spots(r):
                far = math.hypot(dx, dy) > r * 1.5
                label = ax.annotate(names[i], (xs[i], ys[i]), xytext=(dx, dy), textcoords="offset points",
                                    ha=ha, va=va, fontsize=FONT_SIZE, zorder=5, gid=LABEL + ids[i],
                                    arrowprops={"arrowstyle": "-", "color": "#888888", "lw": 0.6,
                                                "shrinkA": 0, "shrinkB": 2} if far else None)
                # The text's own box: an annotation's extent would take in its leader line too.
                label.update_positions(renderer)
                box = Text.get_window_extent(label, renderer).expanded(1.04, 1.15)
                clear = (frame.contains(box.x0, box.y0) and frame.contains(box.x1, box.y1)
                         and not any(box.overlaps(b) for b in placed)
                         and not any(box.overlaps(d) for j, d in enumerate(dots) if j != i))
                if clear:
                    chosen = box
                    break
                label.remove()
            if chosen is None:
                left_out.append(names[i])
                continue
            placed.append(chosen)
        if left_out and len(xs) <= CROWD:  # a crowded chart's caller says so in its note
            ax.text(0.01, 0.01, "Not labelled (no clear spot): " + ", ".join(left_out), transform=ax.transAxes,
                    fontsize=7, color="#555555", ha="left", va="bottom")
    return left_out
