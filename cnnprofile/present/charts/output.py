"""Rendering a figure to SVG (inline in HTML) or to an SVG/PNG file; several charts at once in two processes."""
from __future__ import annotations

import io
import os
import pickle
import threading
from typing import Sequence

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


def svgs(jobs: Sequence[tuple]) -> list:
    """``[to_svg(draw(), salt) for draw, salt in jobs]``, half of them drawn in a forked copy of this process.

    A report's charts take matplotlib about a second, most of it laying out and measuring text in Python, so
    with a second core the two halves run side by side (every other chart, so that the costly scatter plots
    are split). The copy only draws and renders, and sends its SVG text back through a pipe. Where it
    cannot help or could go wrong (one chart, one core, no ``fork``, other threads running whose locks the
    copy would inherit), or if the copy fails, every chart is drawn here: the output is the same either way.
    """
    def render(job) -> str:
        draw, salt = job
        return to_svg(draw(), salt=salt)

    jobs = list(jobs)
    if len(jobs) < 2 or not hasattr(os, "fork") or (os.cpu_count() or 1) < 2 or threading.active_count() > 1:
        return [render(job) for job in jobs]
    theirs_jobs = jobs[1::2]
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the copy: draw, send, and leave without running anything of the parent's (atexit, buffers)
        os.close(read_end)
        try:
            payload = pickle.dumps([render(job) for job in theirs_jobs])
        except BaseException:  # the parent draws them instead
            payload = b""
        with os.fdopen(write_end, "wb") as pipe:
            pipe.write(payload)
        os._exit(0)
    os.close(write_end)
    try:
        mine = [render(job) for job in jobs[0::2]]
    finally:
        with os.fdopen(read_end, "rb") as pipe:
            payload = pipe.read()
        os.waitpid(pid, 0)
    theirs = pickle.loads(payload) if payload else [render(job) for job in theirs_jobs]
    return [mine[i // 2] if i % 2 == 0 else theirs[i // 2] for i in range(len(jobs))]


def save(fig, path: str, salt: str = "cnnprofile") -> str:
    """Write ``fig`` to ``path`` (.svg or .png) atomically; a one-line error if that cannot be done."""
    ext = os.path.splitext(path)[1].lower()
    if ext not in (".svg", ".png"):
        raise InputError(f"cannot write a chart to {path!r}: the file name must end in .svg or .png")
    write_atomic(path, _render(fig, ext[1:], salt))
    return path
