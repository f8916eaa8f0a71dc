"""Rendering a figure to SVG (inline in HTML) or to an SVG/PNG file."""
from __future__ import annotations

import io
import os

from ...errors import InputError
from ...files import write_atomic
from .style import STYLE


def _render(fig, fmt: str, salt: str) -> bytes:
    import matplotlib

    # Charts inlined in one page must not share ids: the salt prefixes each model's artist ids for this render.
    tagged = fig.findobj(lambda a: bool(a.get_gid()))
    for a in tagged:
        a.set_gid(f"{salt}/{a.get_gid()}")
    try:
        # A fixed salt and no date: the same figure gives the same file, and ids differ between inlined charts.
        with matplotlib.rc_context({**STYLE, "svg.hashsalt": salt}):
            buf = io.BytesIO()
            fig.savefig(buf, format=fmt, dpi=200 if fmt == "png" else 72,
                        metadata={"Date": None} if fmt == "svg" else {"Software": None})
            return buf.getvalue()
    finally:
        for a in tagged:
            a.set_gid(a.get_gid()[len(salt) + 1:])


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
