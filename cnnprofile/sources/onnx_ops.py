"""ONNX operators as the torch calls that compute them, so that our formula registry counts an ONNX graph's ops
exactly as it counts a PyTorch model's (``onnx_torch`` builds the modules that call these).

Each function takes the node's attributes (a dict), its tensor inputs (``None`` for an omitted optional
input) and ``static(i)``, the value of input ``i`` as a NumPy array where it is a constant (an initializer, a
``Constant`` or a value computed from them and from shapes), for the inputs that are settings rather than
data (a ``Reshape``'s shape, a ``Slice``'s bounds, opset 13+ axes). ``OPS`` maps op types to them; an op not
in ``OPS`` runs as an uncounted op with the output shape ONNX's shape inference gives it.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

_UNARY = {"Relu": torch.relu, "Sigmoid": torch.sigmoid, "Tanh": torch.tanh, "Exp": torch.exp, "Log": torch.log,
          "Sqrt": torch.sqrt, "Reciprocal": torch.reciprocal, "Neg": torch.neg, "Abs": torch.abs, "Erf": torch.erf,
          "Floor": torch.floor, "Ceil": torch.ceil, "Round": torch.round, "Sign": torch.sign, "Not": torch.logical_not,
          "Softplus": F.softplus, "Mish": F.mish}
_BINARY = {"Add": torch.add, "Sub": torch.sub, "Mul": torch.mul, "Div": torch.div, "Pow": torch.pow,
           "Equal": torch.eq, "Less": torch.lt, "Greater": torch.gt, "LessOrEqual": torch.le,
           "GreaterOrEqual": torch.ge, "And": torch.logical_and, "Or": torch.logical_or}
_DTYPES = {1: torch.float32, 2: torch.uint8, 3: torch.int8, 5: torch.int16, 6: torch.int32, 7: torch.int64,
           9: torch.bool, 10: torch.float16, 11: torch.float64, 16: torch.bfloat16}


def _ints(value) -> list:
    return [int(v) for v in (value.reshape(-1).tolist() if hasattr(value, "reshape") else value)]


def _axes(attrs, static, index: int):
    """Axes from input ``index`` (opset 13+/18+) or the ``axes`` attribute (earlier)."""
    value = static(index)
    return _ints(value) if value is not None else attrs.get("axes")


def spatial_padding(attrs, x, kernel) -> tuple:
    """(symmetric padding per axis or None, F.pad list for asymmetric pads) from ``pads``/``auto_pad``."""
    n = len(kernel)
    strides = attrs.get("strides", [1] * n)
    dilations = attrs.get("dilations", [1] * n)
    auto = attrs.get("auto_pad", "NOTSET")
    if auto in ("SAME_UPPER", "SAME_LOWER"):
        pads_begin, pads_end = [], []
        for size, k, s, d in zip(x.shape[2:], kernel, strides, dilations):
            total = max((math.ceil(size / s) - 1) * s + (k - 1) * d + 1 - size, 0)
            small, big = total // 2, total - total // 2
            pads_begin.append(big if auto == "SAME_LOWER" else small)
            pads_end.append(small if auto == "SAME_LOWER" else big)
    else:
        pads = attrs.get("pads", [0] * 2 * n)
        pads_begin, pads_end = list(pads[:n]), list(pads[n:])
    if pads_begin == pads_end:
        return tuple(pads_begin), None
    flat = []
    for b, e in zip(reversed(pads_begin), reversed(pads_end)):
        flat += [b, e]
    return tuple([0] * n), flat


def conv(attrs, inputs, static):
    x, w, b = (inputs + [None])[:3]
    kernel = list(w.shape[2:])
    padding, flat = spatial_padding(attrs, x, kernel)
    if flat is not None:
        x = F.pad(x, flat)
    fn = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}[len(kernel)]
    return fn(x, w, b, stride=attrs.get("strides", 1), padding=padding, dilation=attrs.get("dilations", 1),
              groups=attrs.get("group", 1))


def _pool(kind):
    def run(attrs, inputs, static):
        x = inputs[0]
        kernel = attrs["kernel_shape"]
        padding, flat = spatial_padding(attrs, x, kernel)
        n = len(kernel)
        if flat is not None:
            x = F.pad(x, flat, value=-math.inf if kind == "max" else 0.0)
        strides = attrs.get("strides", [1] * n)
        ceil = bool(attrs.get("ceil_mode", 0))
        if kind == "max":
            fn = {1: F.max_pool1d, 2: F.max_pool2d, 3: F.max_pool3d}[n]
            return fn(x, kernel, strides, padding, dilation=attrs.get("dilations", 1), ceil_mode=ceil)
        fn = {1: F.avg_pool1d, 2: F.avg_pool2d, 3: F.avg_pool3d}[n]
        return fn(x, kernel, strides, padding, ceil_mode=ceil,
                  count_include_pad=bool(attrs.get("count_include_pad", 0)))
    return run


def gemm(attrs, inputs, static):
    a, b, c = (inputs + [None])[:3]
    a = a.t() if attrs.get("transA", 0) else a
    b = b.t() if attrs.get("transB", 0) else b
    alpha, beta = attrs.get("alpha", 1.0), attrs.get("beta", 1.0)
    if c is None:
        return torch.mm(a, b) if alpha == 1.0 else alpha * torch.mm(a, b)
    return torch.addmm(c, a, b, beta=beta, alpha=alpha)


def batch_norm(attrs, inputs, static):
    x, scale, bias, mean, var = inputs[:5]
    return F.batch_norm(x, mean, var, scale, bias, training=False, eps=attrs.get("epsilon", 1e-5))


def layer_norm(attrs, inputs, static):
    x, scale, bias = (inputs + [None])[:3]
    axis = attrs.get("axis", -1) % x.dim()
    return F.layer_norm(x, tuple(x.shape[axis:]), scale, bias, eps=attrs.get("epsilon", 1e-5))


def _reduce(fn):
    def run(attrs, inputs, static):
        x = inputs[0]
        axes = _axes(attrs, static, 1)
        keep = bool(attrs.get("keepdims", 1))
        if not axes:
            if attrs.get("noop_with_empty_axes", 0):
                return x
            axes = list(range(x.dim()))
        return fn(x, dim=tuple(axes), keepdim=keep)
    return run


def reshape(attrs, inputs, static):
    x, shape = inputs[0], _ints(static(1))
    shape = [x.shape[i] if d == 0 and not attrs.get("allowzero", 0) else d for i, d in enumerate(shape)]
    return x.reshape(shape)


def flatten(attrs, inputs, static):
    x = inputs[0]
    axis = attrs.get("axis", 1) % max(x.dim(), 1)
    return x.reshape(math.prod(x.shape[:axis]), -1)


def transpose(attrs, inputs, static):
    x = inputs[0]
    return x.permute(attrs.get("perm", list(reversed(range(x.dim())))))


def concat(attrs, inputs, static):
    return torch.cat([t for t in inputs if t is not None], dim=attrs["axis"])


def split(attrs, inputs, static):
    x = inputs[0]
    axis = attrs.get("axis", 0)
    sizes = static(1)
    sizes = _ints(sizes) if sizes is not None else attrs.get("split")
    if sizes is None:
        n = attrs.get("num_outputs")
        sizes = math.ceil(x.shape[axis] / n) if n else x.shape[axis]
    return tuple(torch.split(x, sizes, dim=axis))


def slice_(attrs, inputs, static):
    x = inputs[0]
    starts, ends = _ints(static(1)), _ints(static(2))
    axes = _ints(static(3)) if static(3) is not None else list(range(len(starts)))
    steps = _ints(static(4)) if static(4) is not None else [1] * len(starts)
    index, backwards = [slice(None)] * x.dim(), []
    for s, e, a, st in zip(starts, ends, axes, steps):
        size = x.shape[a]
        s, e = s + size if s < 0 else s, e + size if e < 0 else e
        if st > 0:
            index[a] = slice(max(min(s, size), 0), max(min(e, size), 0), st)
        else:  # ONNX clamps a backward slice's start to [0, size - 1] and its end to [-1, size - 1]
            backwards.append((a, range(max(min(s, size - 1), 0), max(min(e, size - 1), -1), st)))
    x = x[tuple(index)]
    for a, picked in backwards:  # torch slicing takes no negative step: gather the indices ONNX names
        x = x.index_select(a % x.dim(), torch.tensor(list(picked), dtype=torch.long, device=x.device))
    return x


def squeeze(attrs, inputs, static):
    axes = _axes(attrs, static, 1)
    return inputs[0].squeeze(tuple(axes)) if axes else inputs[0].squeeze()


def unsqueeze(attrs, inputs, static):
    x = inputs[0]
    for a in sorted(a % (x.dim() + len(_axes(attrs, static, 1))) for a in _axes(attrs, static, 1)):
        x = x.unsqueeze(a)
    return x


def clip(attrs, inputs, static):
    lo, hi = static(1), static(2)
    lo = float(lo) if lo is not None else attrs.get("min")
    hi = float(hi) if hi is not None else attrs.get("max")
    return torch.clamp(inputs[0], lo, hi)


def pad(attrs, inputs, static):
    x = inputs[0]
    pads = _ints(static(1)) if static(1) is not None else attrs["pads"]
    value = float(static(2)) if static(2) is not None and static(2).size else attrs.get("value", 0.0)
    n = x.dim()
    flat = []
    for b, e in zip(reversed(pads[:n]), reversed(pads[n:])):
        flat += [b, e]
    mode = attrs.get("mode", "constant")
    return F.pad(x, flat, mode=mode, value=value) if mode == "constant" else F.pad(x, flat, mode=mode)


def hard_sigmoid(attrs, inputs, static):
    alpha, beta = attrs.get("alpha", 0.2), attrs.get("beta", 0.5)
    if abs(alpha - 1 / 6) < 1e-6 and beta == 0.5:
        return F.hardsigmoid(inputs[0])
    return torch.clamp(inputs[0] * alpha + beta, 0, 1)


def gelu(attrs, inputs, static):
    return F.gelu(inputs[0], approximate="tanh" if attrs.get("approximate", "none") == "tanh" else "none")


def _softmax(fn):
    return lambda attrs, inputs, static: fn(inputs[0], dim=attrs.get("axis", -1))


def expand(attrs, inputs, static):
    x, shape = inputs[0], _ints(static(1))
    out = list(torch.broadcast_shapes(tuple(x.shape), tuple(shape)))
    return x.expand(out)


def where(attrs, inputs, static):
    return torch.where(*inputs[:3])


def cast(attrs, inputs, static):
    return inputs[0].to(_DTYPES[attrs["to"]])


def leaky_relu(attrs, inputs, static):
    return F.leaky_relu(inputs[0], attrs.get("alpha", 0.01))


def matmul(attrs, inputs, static):
    return torch.matmul(inputs[0], inputs[1])


def gather(attrs, inputs, static):
    x, axis = inputs[0], attrs.get("axis", 0) % inputs[0].dim()
    index = static(1)
    if index is not None and index.ndim == 0:
        return x.select(axis, int(index) % x.shape[axis])
    if index is None:  # indices computed by the graph (an embedding lookup)
        index = inputs[1]
    else:
        index = torch.tensor([i % x.shape[axis] for i in _ints(index)], device=x.device).reshape(index.shape)
    picked = x.index_select(axis, index.reshape(-1))
    return picked.reshape(*x.shape[:axis], *index.shape, *x.shape[axis + 1:])


def _variadic(fn):
    def run(attrs, inputs, static):
        out = inputs[0]
        for t in inputs[1:]:
            out = fn(out, t)
        return out
    return run


OPS = {
    **{op: (lambda fn: lambda attrs, inputs, static: fn(inputs[0]))(fn) for op, fn in _UNARY.items()},
    **{op: (lambda fn: lambda attrs, inputs, static: fn(inputs[0], inputs[1]))(fn) for op, fn in _BINARY.items()},
    "Conv": conv, "Gemm": gemm, "MatMul": matmul, "BatchNormalization": batch_norm,
    "LayerNormalization": layer_norm, "MaxPool": _pool("max"), "AveragePool": _pool("avg"),
    "GlobalMaxPool": lambda attrs, inputs, static: inputs[0].amax(dim=tuple(range(2, inputs[0].dim())), keepdim=True),
    "ReduceMean": _reduce(torch.mean), "ReduceSum": _reduce(torch.sum), "ReduceMax": _reduce(torch.amax),
    "ReduceMin": _reduce(torch.amin), "Reshape": reshape, "Flatten": flatten, "Transpose": transpose,
    "Concat": concat, "Split": split, "Slice": slice_, "Squeeze": squeeze, "Unsqueeze": unsqueeze, "Clip": clip,
    "Pad": pad, "HardSigmoid": hard_sigmoid, "HardSwish": lambda attrs, inputs, static: F.hardswish(inputs[0]),
    "Gelu": gelu, "Softmax": _softmax(torch.softmax), "LogSoftmax": _softmax(torch.log_softmax),
    "Expand": expand, "Where": where, "Cast": cast, "LeakyRelu": leaky_relu, "Gather": gather,
    "Identity": lambda attrs, inputs, static: inputs[0], "Dropout": lambda attrs, inputs, static: inputs[0],
    "Max": _variadic(torch.maximum), "Min": _variadic(torch.minimum), "Sum": _variadic(torch.add),
}
# Ops whose inputs after the first are settings, read as constants (``static``), never as data tensors.
STATIC_INPUTS = {"Reshape": (1,), "Gather": (1,), "Slice": (1, 2, 3, 4), "Squeeze": (1,), "Unsqueeze": (1,),
                 "Clip": (1, 2), "Pad": (1, 2, 3), "Split": (1,), "Expand": (1,), "ReduceMean": (1,), "ReduceSum": (1,),
                 "ReduceMax": (1,), "ReduceMin": (1,)}
