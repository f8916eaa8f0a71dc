"""As many model colours as a report has models, every one its own: the ten of matplotlib's tab10 first (the
colours of a small report), then, one at a time, the colour farthest from all those taken (distance in CIELAB,
the space where equal distances look about equally different), among colours dark enough to read on white and
light enough for a black outline to show. Nothing here imports matplotlib."""
from __future__ import annotations

from functools import lru_cache

TAB10 = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22",
         "#7f7f7f")
LIGHTNESS = (30.0, 82.0)  # CIELAB L* of the colours added after tab10
LEVELS = 12  # candidates: a LEVELS^3 grid of sRGB


def _linear(c: float) -> float:
    return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4


def lab(hex_colour: str) -> tuple:
    """sRGB "#rrggbb" -> CIELAB (L*, a*, b*) under D65."""
    r, g, b = (_linear(int(hex_colour[i:i + 2], 16) / 255) for i in (1, 3, 5))
    x = (0.4124 * r + 0.3576 * g + 0.1805 * b) / 0.95047
    y = 0.2126 * r + 0.7152 * g + 0.0722 * b
    z = (0.0193 * r + 0.1192 * g + 0.9505 * b) / 1.08883

    def f(t):
        return t ** (1 / 3) if t > 216 / 24389 else (24389 / 27 * t + 16) / 116

    fx, fy, fz = f(x), f(y), f(z)
    return 116 * fy - 16, 500 * (fx - fy), 200 * (fy - fz)


def distance(a: str, b: str) -> float:
    """CIE76 colour difference (Delta E) of two "#rrggbb" colours."""
    return sum((p - q) ** 2 for p, q in zip(lab(a), lab(b))) ** 0.5


@lru_cache(maxsize=None)
def _candidates() -> tuple:
    steps = [round(i * 255 / (LEVELS - 1)) for i in range(LEVELS)]
    out = []
    for r in steps:
        for g in steps:
            for b in steps:
                colour = f"#{r:02x}{g:02x}{b:02x}"
                point = lab(colour)
                if LIGHTNESS[0] <= point[0] <= LIGHTNESS[1]:
                    out.append((colour, point))
    return tuple(out)


@lru_cache(maxsize=None)
def palette(n: int) -> tuple:
    """``n`` distinct colours: tab10's, then the farthest remaining candidate each time (deterministic)."""
    chosen = list(TAB10[:n])
    points = [lab(c) for c in chosen]
    nearest = [min((sum((p - q) ** 2 for p, q in zip(point, other)) for other in points), default=float("inf"))
               for _, point in _candidates()]
    while len(chosen) < n:
        best = max(range(len(nearest)), key=nearest.__getitem__)
        if nearest[best] == 0:
            raise ValueError(f"no more than {len(chosen)} distinct colours")
        colour, point = _candidates()[best]
        chosen.append(colour)
        nearest = [min(d, sum((p - q) ** 2 for p, q in zip(point, other)))
                   for d, (_, other) in zip(nearest, _candidates())]
    return tuple(chosen)
