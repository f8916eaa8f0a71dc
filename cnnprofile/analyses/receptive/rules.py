"""The receptive-field rule of every ATen op we follow (see ``receptive``'s docstring for the rules in words).

Each rule takes the op and the fields of its input tensors and returns the field of its outputs. The windowed
and elementwise ops are here; the ops that only move data (reshapes, slices, concatenation) are in
``rf_layout``, imported here so that ``RULES`` holds both.
"""
from __future__ import annotations

from dataclasses import replace
from fractions import Fraction
from math import ceil

import torch

from . import layout as rf_layout  # noqa: F401  (registers the data-movement rules in RULES)
from .field import (
    RULES,
    Axis,
    Field,
    _input,
    _merge,
    _per_dim,
    _spatial,
    _with,
    rule,
)

F = Fraction


def _slide(field: Field, n: int, kernel, stride, padding, dilation) -> Field:
    kernel, dilation, padding = _per_dim(kernel, n), _per_dim(dilation, n), _per_dim(padding, n)
    stride = _per_dim(stride, n) if stride not in (None, [], ()) else kernel
    updates = {}
    for k, kk, s, p, d in zip(_spatial(field, n), kernel, stride, padding, dilation):
        a = field.dims[k]
        if a is not None:
            updates[k] = Axis(a.axis, a.r + (kk - 1) * d * a.j, a.j * s, a.c + (F((kk - 1) * d, 2) - p) * a.j)
    return _with(field, updates)


@rule("convolution", "_convolution", "cudnn_convolution", "mkldnn_convolution", "convolution_overrideable")
def _conv(node, fields):
    f = _input(node, fields)
    if f is None:
        return None
    weight = node.args[1]
    n = weight.dim() - 2
    stride, padding, dilation = node.args[3], node.args[4], node.args[5]
    transposed = bool(node.args[6]) if len(node.args) > 6 else False
    if not transposed:
        return _slide(f, n, list(weight.shape[2:]), stride, padding, dilation)
    updates = {}
    for k, kk, s, p, d in zip(_spatial(f, n), weight.shape[2:], _per_dim(stride, n), _per_dim(padding, n),
                              _per_dim(dilation, n)):
        a = f.dims[k]
        if a is not None:
            reads = ceil(F((kk - 1) * d + 1, s))
            updates[k] = Axis(a.axis, a.r + (reads - 1) * a.j, a.j / s, a.c + (p - F((kk - 1) * d, 2)) * a.j / s)
    return _with(f, updates)


@rule("max_pool1d_with_indices", "max_pool2d_with_indices", "max_pool3d_with_indices", "max_pool1d",
      "max_pool2d", "max_pool3d")
def _max_pool(node, fields):
    f = _input(node, fields)
    args = list(node.args) + [None] * 6
    kernel = _per_dim(args[1], 1)
    n = len(kernel)
    return None if f is None else _global(node, f, n) or _slide(f, n, kernel, args[2], args[3] or 0, args[4] or 1)


@rule("avg_pool1d", "avg_pool2d", "avg_pool3d")
def _avg_pool(node, fields):
    f = _input(node, fields)
    args = list(node.args) + [None] * 6
    kernel = _per_dim(args[1], 1)
    return None if f is None else _global(node, f, len(kernel)) or _slide(f, len(kernel), kernel, args[2],
                                                                           args[3] or 0, 1)


def _global(node, f: Field, n: int) -> Field | None:
    """A pooling whose one window covers its whole input (GoogLeNet's 7x7 average pooling of a 7x7 map) is
    global pooling: its unit sees the whole input, whatever number the formula would give."""
    sizes_in, sizes_out = node.args[0].shape[-n:], node.outputs[0].shape[-n:]
    if all(o == 1 for o in sizes_out) and any(i > 1 for i in sizes_in):
        return _collapse(f, _spatial(f, n), keep=True)
    return None


def _collapse(f: Field, ks: list, keep: bool) -> Field:
    """Reduce dimensions ``ks``: a reduced spatial axis makes the unit see the whole input."""
    whole = any(f.dims[k] is not None for k in ks)
    dims = [None if k in ks else d for k, d in enumerate(f.dims)] if keep else \
        [d for k, d in enumerate(f.dims) if k not in ks]
    return replace(f, dims=tuple(dims), whole=f.whole or whole)


@rule("_adaptive_avg_pool1d", "adaptive_avg_pool1d", "_adaptive_avg_pool2d", "_adaptive_avg_pool3d",
      "adaptive_max_pool1d", "adaptive_max_pool2d", "adaptive_max_pool3d", "adaptive_avg_pool2d")
def _adaptive(node, fields):
    f = _input(node, fields)
    if f is None:
        return None
    n = len(_per_dim(node.args[1], 1))
    ks = _spatial(f, n)
    sizes_in, sizes_out = node.args[0].shape[-n:], node.outputs[0].shape[-n:]
    if all(o == 1 and i > 1 for i, o in zip(sizes_in, sizes_out)):
        return _collapse(f, ks, keep=True)
    updates = {}
    for k, i, o in zip(ks, sizes_in, sizes_out):
        a = f.dims[k]
        if a is None or i == o:
            continue
        widest = max(ceil(F((u + 1) * i, o)) - (u * i) // o for u in range(o))
        updates[k] = Axis(a.axis, a.r + (widest - 1) * a.j, a.j * F(i, o), a.c + F(ceil(F(i, o)) - 1, 2) * a.j)
    return _with(f, updates)


# These take the norm's order before the dims: norm(x, p, dim, keepdim), linalg_vector_norm(x, ord, dim, keepdim).
_ORDER_FIRST = ("aten.norm", "aten.linalg_vector_norm")


def _reduction_args(node) -> tuple:
    """(input, dim, keepdim, ...) whatever the op's signature."""
    return (node.args[0], *node.args[2:]) if node.op in _ORDER_FIRST else tuple(node.args)


def _reduced_dims(node, f) -> list:
    args = _reduction_args(node)
    dims = args[1] if len(args) > 1 else node.kwargs.get("dim")
    if dims is None or (isinstance(dims, (list, tuple)) and len(dims) == 0):
        return list(range(len(f.dims)))
    return [d % len(f.dims) for d in _per_dim(dims, 1)]


@rule("mean", "sum", "amax", "amin", "max", "min", "var", "std", "norm", "linalg_vector_norm", "logsumexp",
      "argmax", "argmin", "prod", "var_mean", "std_mean")
def _reduction(node, fields):
    f = _input(node, fields)
    if f is None:
        return None
    if len(node.args) > 1 and isinstance(node.args[1], torch.Tensor):  # max(a, b) is elementwise
        return _pointwise(node, fields)
    args = _reduction_args(node)
    keep = bool(args[2]) if len(args) > 2 and isinstance(args[2], bool) else bool(node.kwargs.get("keepdim", False))
    return _collapse(f, _reduced_dims(node, f), keep)


@rule("_softmax", "_log_softmax", "softmax", "log_softmax", "_safe_softmax", "cumsum")
def _along_dim(node, fields):
    f = _input(node, fields)
    if f is None:
        return None
    d = node.args[1] % len(f.dims)
    return replace(f, whole=f.whole or f.dims[d] is not None)


@rule("native_layer_norm", "layer_norm")
def _layer_norm(node, fields):
    f = _pointwise(node, fields)
    n = len(node.args[1])
    return None if f is None else replace(f, whole=f.whole or any(f.dims[k] is not None for k in _spatial(f, n)))


@rule("native_group_norm", "group_norm")
def _group_norm(node, fields):
    f = _pointwise(node, fields)
    return None if f is None else replace(f, whole=f.whole or any(d is not None for d in f.dims))


@rule("native_batch_norm", "_native_batch_norm_legit", "batch_norm", "cudnn_batch_norm")
def _batch_norm(node, fields):
    f = _pointwise(node, fields)
    training = next((a for a in node.args[5:6] if isinstance(a, bool)), False)
    return None if f is None else replace(f, whole=f.whole or (training and any(d is not None for d in f.dims)))


@rule("mm", "addmm", "bmm", "baddbmm", "mv", "addmv", "dot", "matmul", "linear")
def _matmul(node, fields):
    present = [f for f in fields if f is not None]
    if not present:
        return None
    return Field((None,) * node.outputs[0].dim(), True, all(f.aligned for f in present),
                 tuple(dict.fromkeys(op for f in present for op in f.unknown)))


def _pointwise(node, fields):
    shapes = [tuple(t.shape) for t in node.inputs]
    return _merge(fields, shapes, tuple(node.outputs[0].shape)) if node.outputs else None


_ELEMENTWISE = (
    "add", "sub", "rsub", "mul", "div", "neg", "abs", "reciprocal", "relu", "threshold", "hardtanh", "clamp",
    "clamp_min", "clamp_max", "leaky_relu", "prelu", "_prelu_kernel", "sigmoid", "tanh", "hardsigmoid",
    "hardswish", "silu", "gelu", "elu", "selu", "mish", "softplus", "exp", "log", "sqrt", "rsqrt", "pow",
    "square", "maximum", "minimum", "where", "eq", "ne", "gt", "lt", "ge", "le", "sign", "floor", "ceil",
    "round", "erf", "addcmul", "addcdiv", "lerp", "_native_batch_norm_legit_no_training", "native_dropout",
    "dropout", "masked_fill", "clone", "contiguous", "_to_copy", "copy", "detach", "alias", "lift_fresh",
    "lift_fresh_copy", "expand", "channel_shuffle", "bitwise_and", "bitwise_or", "logical_and", "logical_not",
)
for _name in _ELEMENTWISE:
    RULES[f"aten.{_name}"] = _pointwise
    RULES[f"aten.{_name}_"] = _pointwise


@rule("constant_pad_nd", "pad", "reflection_pad1d", "reflection_pad2d", "reflection_pad3d",
      "replication_pad1d", "replication_pad2d", "replication_pad3d")
def _pad(node, fields):
    f = _input(node, fields)
    if f is None:
        return None
    pads = list(node.args[1])
    updates = {}
    for side in range(len(pads) // 2):
        k = len(f.dims) - 1 - side
        a = f.dims[k]
        if a is not None:
            updates[k] = Axis(a.axis, a.r, a.j, a.c - pads[2 * side] * a.j)
    return _with(f, updates)


_TAPS = {"nearest": 1, "_nearest_exact": 1, "linear": 2, "bilinear": 2, "trilinear": 2, "bicubic": 4}


@rule(*(f"{prefix}{mode}{n}d" for mode in ("nearest", "bilinear", "bicubic", "linear", "trilinear")
        for prefix in ("upsample_",) for n in (1, 2, 3)),
      "_upsample_nearest_exact1d", "_upsample_nearest_exact2d", "_upsample_nearest_exact3d")
def _interpolate(node, fields):
    f = _input(node, fields)
    if f is None:
        return None
    mode = node.op.split("upsample_")[1][:-2]
    taps = _TAPS[mode]
    align = next((a for a in node.args[2:] if isinstance(a, bool)), False) if taps > 1 else False
    n = int(node.op[-2])
    updates = {}
    for k, i, o in zip(_spatial(f, n), node.args[0].shape[-n:], node.outputs[0].shape[-n:]):
        a = f.dims[k]
        if a is None or i == o:
            continue
        if align:
            step, first = F(i - 1, max(o - 1, 1)), F(0)
        elif taps == 1:
            step = F(i, o)
            first = F((i // (2 * o)) if mode == "_nearest_exact" else 0)
        else:
            step = F(i, o)
            first = (step - 1) / 2
        updates[k] = Axis(a.axis, a.r + (taps - 1) * a.j, a.j * step, a.c + first * a.j)
    return _with(f, updates)


@rule("pixel_shuffle", "pixel_unshuffle")
def _pixel_shuffle(node, fields):
    f = _input(node, fields)
    if f is None:
        return None
    u = node.args[1]
    updates = {}
    for k in _spatial(f, 2):
        a = f.dims[k]
        if a is None:
            continue
        if node.op == "aten.pixel_shuffle":
            updates[k] = Axis(a.axis, a.r, a.j / u, a.c + (F(1, u) - 1) / 2 * a.j)
        else:
            updates[k] = Axis(a.axis, a.r + (u - 1) * a.j, a.j * u, a.c + F(u - 1, 2) * a.j)
    return _with(f, updates)

