"""Label placement: every point named, no label over another label or point."""
from __future__ import annotations

from typing import Sequence

from .style import STYLE

CROWD = 30  # above this many points, a label with no clear spot is left out rather than drawn over others


def short_names(names: Sequence[str]) -> list:
    """Labels without the ``torchvision:`` prefix wherever that leaves them unambiguous."""
    shorts = [n.split(":", 1)[1] if n.startswith("torchvision:") else n for n in names]
    return [s if shorts.count(s) == 1 else n for n, s in zip(names, shorts)]


def _spots(r: float) -> list:
    """Offsets (points) and alignments to try, nearest first: around the point, then further out with a leader."""
    near = [(r, 0, "left", "center"), (-r, 0, "right", "center"), (0, r, "center", "bottom"),
            (0, -r, "center", "top"), (r * .7, r * .7, "left", "bottom"), (r * .7, -r * .7, "left", "top"),
            (-r * .7, r * .7, "right", "bottom"), (-r * .7, -r * .7, "right", "top")]
    return near + [(dx * s, dy * s, ha, va) for s in (1.8, 2.8) for dx, dy, ha, va in
                   ((r + 10, 14, "left", "bottom"), (r + 10, -14, "left", "top"),
                    (-r - 10, 14, "right", "bottom"), (-r - 10, -14, "right", "top"))]


def place_labels(ax, xs, ys, names, radii) -> None:
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
            spots = _spots(r)
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
