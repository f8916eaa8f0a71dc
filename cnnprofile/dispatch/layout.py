"""What the shape kernels read off their operands: whether a layout is one they can state the result of."""
from __future__ import annotations

from typing import Optional

import torch

aten = torch.ops.aten
_REDUCED = (torch.float16, torch.bfloat16)


def _plain(*tensors) -> bool:
    """Meta, contiguous, floating and of one dtype: the case whose result we can state from shapes alone."""
    first = tensors[0]
    return all(t.is_meta and t.is_contiguous() and t.dtype == first.dtype and t.is_floating_point()
               for t in tensors)


def _row_major(*tensors) -> bool:
    """Meta, floating, of one dtype, and each laid out in row-major order: strides strictly decreasing over the
    dimensions that are not broadcast (stride 0) or of size 1. A contiguous tensor, an ``expand``-ed one (a
    mean's gradient) and a channel slice of one (a concatenation's gradient) are; an elementwise op over
    such operands keeps their order, so it writes a contiguous result (torch's own stride rule)."""
    first = tensors[0]
    for t in tensors:
        if not t.is_meta or not t.is_floating_point() or t.dtype != first.dtype:
            return False
        last = None
        for size, stride in zip(t.shape, t.stride()):
            if size == 1 or stride == 0:
                continue
            if last is not None and stride >= last:
                return False
            last = stride
    return True


def channels_last_format(t):
    """The channels-last memory format ``t`` is laid out in, and not also in the plain one, or None: what
    ATen's ``suggest_memory_format`` answers for a dense tensor, read from the strides alone."""
    fmt = {4: torch.channels_last, 5: torch.channels_last_3d}.get(t.dim())
    return fmt if fmt is not None and not t.is_contiguous() and t.is_contiguous(memory_format=fmt) else None


def _broadcast(a, b) -> Optional[tuple]:
    """The broadcast of two shapes, or None where they do not broadcast. (``torch.broadcast_shapes`` would do,
    but its first call imports sympy through torch's symbolic-shape machinery: 0.4 s.)"""
    a, b = tuple(a), tuple(b)
    n = max(len(a), len(b))
    a, b = (1,) * (n - len(a)) + a, (1,) * (n - len(b)) + b
    out = []
    for x, y in zip(a, b):
        if x != y and 1 not in (x, y):
            return None
        out.append(y if x == 1 else x)
    return tuple(out)


def _meta(shape, dtype) -> torch.Tensor:
    return torch.empty(tuple(shape), dtype=dtype, device="meta")
