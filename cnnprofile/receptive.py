"""Receptive fields along the traced graph of ops (Araujo, Norris and Sim, "Computing receptive fields of
convolutional neural networks", Distill 2019).

Per tensor and per spatial axis of the model's input we keep the field of the tensor's unit 0: its size
``r``, the jump ``j`` between neighbouring units (the effective stride, in input pixels) and the centre
``c`` of unit 0's field (input pixel 0 has centre 0). The effective padding is Distill's
``P = (r - 1) / 2 - c``: unit 0 sees input pixels -P .. r - 1 - P. Borders are ignored, as in the paper:
padding is virtual input.

Rules (``RULES`` maps each ATen op to one; tests cover each kind):

- convolution (kernel k, stride s, padding p, dilation d): r + (k-1) d j, j s, c + ((k-1) d / 2 - p) j;
  pooling the same (ceil_mode only adds units at the end, so it changes no field);
- transposed convolution: j / s (a fractional stride), r + (ceil(((k-1) d + 1) / s) - 1) j (the most input
  units one output unit reads, times j), c + (p - (k-1) d / 2) j / s;
- adaptive pooling from I to O units: stride I / O and the widest window as kernel (exact when O divides I);
  to one unit on every spatial axis, or any reduction over a spatial axis (mean, softmax, group norm), the
  unit sees the whole input;
- interpolation from I to O units: stride I / O and as many taps as the mode reads (nearest 1, linear 2,
  cubic 4; align_corners: stride (I - 1) / (O - 1));
- elementwise ops, ``+`` and ``torch.cat``: the union over inputs; different jumps or centres are flagged
  as not aligned; an input that sees the whole input (SENet's channel gate) makes the result see it too;
- fully connected layers and reshapes that merge a spatial axis with another dimension (``flatten``) lose
  the layout: the whole input;
- an op with no rule makes everything after it unknown, and is listed.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from fractions import Fraction
from math import ceil

import torch

from .graph import Graph, Node, traced

F = Fraction
CONVENTION = ("receptive field = input pixels one unit of the layer's output sees, per spatial axis (one number "
              "when all axes agree); effective stride = input pixels between neighbouring units; effective "
              "padding = how far unit 0's field starts before input pixel 0 (Araujo et al., Distill 2019); "
              "'whole' = the unit depends on the entire input (global pooling, fully connected layers, "
              "flattening, or a path such as SENet's gate); borders ignored, padding counted as input")


@dataclass(frozen=True)
class Axis:
    axis: int  # which spatial axis of the model's input (0 = the first after N and C)
    r: Fraction
    j: Fraction
    c: Fraction

    @property
    def lo(self) -> Fraction:
        return self.c - (self.r - 1) / 2


@dataclass(frozen=True)
class Field:
    """The receptive field of one tensor: an ``Axis`` or None for each of its dimensions."""

    dims: tuple
    whole: bool = False
    aligned: bool = True
    unknown: tuple = ()  # ops without a rule on the way here


@dataclass(frozen=True)
class ReceptiveField:
    """A layer row's output field. Numbers are an int (or a float for fractional strides of transposed
    convolutions and interpolation), or a tuple per spatial axis when the axes differ; None where the unit
    has no spatial position (``whole_input``) or an op on the way has no rule (``unknown_ops``)."""

    name: str
    receptive_field: int | float | tuple | None
    effective_stride: int | float | tuple | None
    effective_padding: int | float | tuple | None
    whole_input: bool
    aligned: bool
    unknown_ops: tuple = ()


@dataclass(frozen=True)
class ReceptiveFieldProfile:
    model: str
    input_shape: tuple
    layers: tuple  # of ReceptiveField, one per layer row of the profile (the input row excluded)
    convention: str = CONVENTION

    def last_feature_map(self) -> ReceptiveField | None:
        """The last layer whose units still have a position on the input (a receptive field number)."""
        spatial = [r for r in self.layers if r.receptive_field is not None]
        return spatial[-1] if spatial else None


# --- combining fields --------------------------------------------------------------------------------------

def _union(axes: list) -> tuple:
    """(Axis, aligned) covering every field in ``axes`` (same input axis) for unit 0."""
    first = axes[0]
    if all(a == first for a in axes):
        return first, True
    aligned = len({a.j for a in axes}) == 1 and len({a.c for a in axes}) == 1
    lo = min(a.lo for a in axes)
    hi = max(a.lo + a.r - 1 for a in axes)
    return Axis(first.axis, hi - lo + 1, max(a.j for a in axes), (lo + hi) / 2), aligned


def _merge(fields: list, shapes: list, out_shape: tuple, concat_dim: int | None = None) -> Field | None:
    """Fields of inputs broadcast to ``out_shape`` (right-aligned), united dimension by dimension."""
    present = [(f, s) for f, s in zip(fields, shapes) if f is not None]
    if not present:
        return None
    per_dim: list = [[] for _ in out_shape]
    for f, shape in present:
        shift = len(out_shape) - len(shape)
        for i, entry in enumerate(f.dims):
            k = i + shift
            broadcast = shape[i] == 1 and out_shape[k] != 1 and k != concat_dim
            if entry is not None and not broadcast:
                per_dim[k].append(entry)
    dims, aligned = [], all(f.aligned for f, _ in present)
    for k, entries in enumerate(per_dim):
        if not entries:
            dims.append(None)
            continue
        axis, ok = _union(entries)
        aligned &= ok and (k != concat_dim or len(entries) == 1)
        dims.append(axis)
    return Field(tuple(dims), any(f.whole for f, _ in present), aligned,
                 tuple(dict.fromkeys(op for f, _ in present for op in f.unknown)))


def _spatial(field: Field, n: int) -> list:
    """Indices of the last ``n`` dimensions (the ones a kernel of rank n slides over)."""
    return list(range(len(field.dims) - n, len(field.dims)))


def _per_dim(value, n: int) -> list:
    if isinstance(value, (list, tuple)):
        value = list(value)
        return value * n if len(value) == 1 else value
    return [value] * n


def _with(field: Field, updates: dict, whole: bool = False) -> Field:
    dims = list(field.dims)
    for k, axis in updates.items():
        dims[k] = axis
    return replace(field, dims=tuple(dims), whole=field.whole or whole)


# --- rules: each returns the field of the op's outputs -----------------------------------------------------

Rule = Callable[[Node, list], Field | None]
RULES: dict[str, Rule] = {}


def rule(*names: str):
    def register(fn: Rule) -> Rule:
        for name in names:
            RULES[f"aten.{name}"] = fn
        return fn
    return register


def _field(node: Node, fields: list, t) -> Field | None:
    # By identity: tensors compare elementwise, so ``tuple.index`` cannot find one.
    for candidate, f in zip(node.inputs, fields):
        if candidate is t:
            return f
    return None


def _input(node: Node, fields: list, i: int = 0):
    return _field(node, fields, node.args[i])


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


def _reduced_dims(node, f) -> list:
    dims = node.args[1] if len(node.args) > 1 else node.kwargs.get("dim")
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
    keep = bool(node.args[2]) if len(node.args) > 2 and isinstance(node.args[2], bool) else \
        bool(node.kwargs.get("keepdim", False))
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


def _unknown(node, fields):
    present = [f for f in fields if f is not None]
    if not present:
        return None
    return Field((None,) * node.outputs[0].dim(), any(f.whole for f in present), all(f.aligned for f in present),
                 tuple(dict.fromkeys([op for f in present for op in f.unknown] + [node.op])))


# --- propagation and records -------------------------------------------------------------------------------

def propagate(graph: Graph) -> dict:
    """{id(tensor): Field} for every tensor that depends on the model's input."""
    x = graph.input
    fields = {id(x): Field((None, None) + tuple(Axis(k, F(1), F(1), F(0)) for k in range(x.dim() - 2)))}
    for node in graph.nodes:
        if not node.outputs:
            continue
        ins = [fields.get(id(t)) for t in node.inputs]
        if all(f is None for f in ins):
            out = None
        else:
            out = RULES.get(node.op, _unknown)(node, ins)
        for t in node.outputs:
            if out is None:
                fields.pop(id(t), None)
            else:
                fields[id(t)] = _fit(out, t.dim())
    return fields


def _fit(f: Field, ndim: int) -> Field:
    # Ops returning several tensors of different ranks (values and a reduced statistic) share one field.
    if len(f.dims) == ndim:
        return f
    return replace(f, dims=(f.dims + (None,) * ndim)[-ndim:] if ndim else ())


def _number(value: Fraction):
    return int(value) if value.denominator == 1 else float(value)


def _per_axis(values: list):
    values = [_number(v) for v in values]
    return values[0] if len(set(values)) == 1 else tuple(values)


def record(name: str, field: Field | None) -> ReceptiveField:
    if field is None:  # the row computes something that does not depend on the input
        return ReceptiveField(name, None, None, None, False, True)
    axes = sorted((a for a in field.dims if a is not None), key=lambda a: a.axis)
    if field.unknown or not axes:
        return ReceptiveField(name, None, None, None, field.whole and not field.unknown, field.aligned,
                              field.unknown)
    return ReceptiveField(name, _per_axis([a.r for a in axes]), _per_axis([a.j for a in axes]),
                          _per_axis([(a.r - 1) / 2 - a.c for a in axes]), field.whole, field.aligned)


def receptive_fields_of(graph: Graph) -> list:
    fields = propagate(graph)
    out = []
    for row in graph.rows():
        t = row.output
        while isinstance(t, (tuple, list)) and t:
            t = t[0]
        out.append(record(row.name, fields.get(id(t)) if isinstance(t, torch.Tensor) else None))
    return out


def receptive_fields(model, input_size=None, *, batch: int | None = None,
                     kwargs: dict | None = None) -> ReceptiveFieldProfile:
    """The receptive field of every layer row of ``model`` (a zoo name, a spec or an ``nn.Module``)."""
    graph, name, shape = traced(model, input_size, batch, kwargs)
    return ReceptiveFieldProfile(name, tuple(shape), tuple(receptive_fields_of(graph)))


def zoo_last_feature_maps() -> list:
    """(model name, ReceptiveField of its last feature map) for every zoo model, in ``cnnprofile list`` order."""
    from .models import list_models

    return [(spec.name, receptive_fields(spec.name).last_feature_map()) for spec in list_models()]


__all__ = [
    "RULES",
    "ReceptiveField",
    "ReceptiveFieldProfile",
    "propagate",
    "receptive_fields",
    "receptive_fields_of",
]
