"""Receptive-field rules of the ops that move data without a window: constants, copies, reshapes, permutes,
slices, splits, concatenations and stacks (``rf_rules`` has the windowed ops: convolution, pooling, padding,
interpolation). Registered in ``rf_field.RULES`` on import.
"""
from __future__ import annotations

from dataclasses import replace

from .field import (
    _unknown,
    Axis,
    Field,
    _field,
    _input,
    _merge,
    _with,
    rule,
)


@rule("empty", "empty_like", "empty_strided", "zeros", "zeros_like", "ones", "ones_like", "full", "full_like",
      "arange", "scalar_tensor", "new_empty", "new_zeros", "new_ones", "new_full", "fill", "fill_", "zero_",
      "rand", "randn", "rand_like", "randn_like", "bernoulli", "bernoulli_")
def _constant(node, fields):
    return None


@rule("copy_")
def _copy(node, fields):
    src = _field(node, fields, node.args[1])
    return _merge([src], [tuple(node.args[1].shape)], tuple(node.args[0].shape))


def _regroup(f: Field, in_shape: tuple, out_shape: tuple) -> Field:
    """A reshape: dimensions carried over one for one keep their field; a spatial axis merged with or split
    into other dimensions loses its layout (the whole input)."""
    dims: list = [None] * len(out_shape)
    lost = False
    i = o = 0
    while i < len(in_shape) or o < len(out_shape):
        in_one = i < len(in_shape) and in_shape[i] == 1
        out_one = o < len(out_shape) and out_shape[o] == 1
        if in_one and out_one:
            dims[o] = f.dims[i]
            i, o = i + 1, o + 1
        elif in_one:
            i += 1
        elif out_one or i >= len(in_shape):
            o += 1
        elif o >= len(out_shape):
            lost |= f.dims[i] is not None
            i += 1
        else:
            group_in, group_out = [i], [o]
            p_in, p_out = in_shape[i], out_shape[o]
            i, o = i + 1, o + 1
            while p_in != p_out and (i < len(in_shape) or o < len(out_shape)):
                if p_in < p_out and i < len(in_shape):
                    group_in.append(i)
                    p_in *= in_shape[i]
                    i += 1
                elif o < len(out_shape):
                    group_out.append(o)
                    p_out *= out_shape[o]
                    o += 1
                else:
                    break
            real_in = [k for k in group_in if in_shape[k] != 1]
            real_out = [k for k in group_out if out_shape[k] != 1]
            if len(real_in) == 1 and len(real_out) == 1:
                dims[real_out[0]] = f.dims[real_in[0]]
            else:
                lost |= any(f.dims[k] is not None for k in group_in)
    if lost:
        dims = [None] * len(out_shape)
    return replace(f, dims=tuple(dims), whole=f.whole or lost)


@rule("view", "_unsafe_view", "reshape", "unsqueeze", "squeeze", "flatten", "unflatten", "view_as",
      "reshape_as", "as_strided", "unfold")
def _view(node, fields):
    f = _input(node, fields)
    if f is None:
        return None
    shape_in, shape_out = tuple(node.args[0].shape), tuple(node.outputs[0].shape)
    if node.op in ("aten.as_strided", "aten.unfold") and shape_in != shape_out:
        return _unknown(node, fields)
    return _regroup(f, shape_in, shape_out)


@rule("permute", "transpose", "t", "movedim")
def _permute(node, fields):
    f = _input(node, fields)
    if f is None:
        return None
    n = len(f.dims)
    if node.op == "aten.permute":
        order = [d % n for d in node.args[1]]
    else:
        a, b = (0, 1) if node.op == "aten.t" else (node.args[1] % n, node.args[2] % n)
        order = list(range(n))
        order[a], order[b] = order[b], order[a]
    return replace(f, dims=tuple(f.dims[k] for k in order))


@rule("slice", "narrow")
def _slice(node, fields):
    f = _input(node, fields)
    if f is None:
        return None
    args = list(node.args) + [None] * 5
    d = (args[1] or 0) % len(f.dims)
    a = f.dims[d]
    if a is None:
        return f
    start = args[2] or 0
    start = start + node.args[0].shape[d] if start < 0 else start
    step = 1 if node.op == "aten.narrow" else (args[4] or 1)
    return _with(f, {d: Axis(a.axis, a.r, a.j * step, a.c + start * a.j)})


@rule("select", "index_select")
def _select(node, fields):
    f = _input(node, fields)
    if f is None:
        return None
    d = node.args[1] % len(f.dims)
    if f.dims[d] is not None:
        return _unknown(node, fields)
    dims = f.dims if node.op == "aten.index_select" else f.dims[:d] + f.dims[d + 1:]
    return replace(f, dims=dims)


@rule("split", "split_with_sizes", "chunk", "unbind", "unsafe_split", "unsafe_split_with_sizes")
def _split(node, fields):
    f = _input(node, fields)
    if f is None:
        return None
    d = (node.args[2] if len(node.args) > 2 else node.kwargs.get("dim", 0)) % len(f.dims)
    if node.op == "aten.unbind":
        d = (node.args[1] if len(node.args) > 1 else 0) % len(f.dims)
        return _unknown(node, fields) if f.dims[d] is not None else replace(f, dims=f.dims[:d] + f.dims[d + 1:])
    # Splitting a spatial axis gives each piece a different offset: not one field for all outputs.
    return _unknown(node, fields) if f.dims[d] is not None else f


@rule("cat", "concat")
def _cat(node, fields):
    tensors = [t for t in node.args[0] if t.numel() > 0 or t.dim() > 1]
    dim = (node.args[1] if len(node.args) > 1 else node.kwargs.get("dim", 0)) % tensors[0].dim()
    return _merge([_field(node, fields, t) for t in tensors], [tuple(t.shape) for t in tensors],
                  tuple(node.outputs[0].shape), concat_dim=dim)


@rule("stack")
def _stack(node, fields):
    f = _merge([_field(node, fields, t) for t in node.args[0]], [tuple(t.shape) for t in node.args[0]],
               tuple(node.args[0][0].shape))
    dim = (node.args[1] if len(node.args) > 1 else 0) % node.outputs[0].dim()
    return None if f is None else replace(f, dims=f.dims[:dim] + (None,) + f.dims[dim:])
