"""The base of every dispatch mode we install, and shape-only kernels for the ops whose meta kernels are slow.

Two costs are avoided, neither of which changes what an op returns:

- ``TorchDispatchMode`` subclasses get their ``__torch_dispatch__`` wrapped so that ``torch.compile`` skips it;
  the wrapper imports ``torch._dynamo`` on its first call (about a second and 100 MiB). We never compile inside
  a mode, so our modes opt out through the ``_should_skip_dynamo`` switch.
- The meta kernels of the commonest CNN ops (convolution, batch norm, pooling, activations, residual adds,
  ``addmm`` behind every ``nn.Linear``, pixel (un)shuffle) are Python decompositions: a few milliseconds per op,
  and several of them import ``torch._dynamo`` or sympy through ``torch._prims_common`` wrappers and
  ``torch._check``. On meta inputs in the plain case
  (contiguous, same dtype) we compute the result from the shapes; anything else falls through to torch's own
  meta kernel, which also produces every error message. ``tests/test_dispatch.py`` checks, op by op and over
  whole models, that these results are identical in shape, dtype and strides to torch's own.
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import Callable, Optional

import torch
from torch import nn
from torch.utils._python_dispatch import TorchDispatchMode

aten = torch.ops.aten
_REDUCED = (torch.float16, torch.bfloat16)


class LightDispatchMode(TorchDispatchMode):
    """A ``TorchDispatchMode`` that does not import ``torch._dynamo`` on its first op."""

    @classmethod
    def _should_skip_dynamo(cls) -> bool:
        return False


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


def _addmm(args, kwargs):
    bias, mat1, mat2 = args[0], args[1], args[2]
    if len(args) > 3 or set(kwargs) - {"beta", "alpha"} or not (mat1.dim() == mat2.dim() == 2) \
            or mat1.shape[1] != mat2.shape[0] or bias.dtype != mat1.dtype or mat2.dtype != mat1.dtype:
        return None
    shape = (mat1.shape[0], mat2.shape[1])
    if _broadcast(bias.shape, shape) != shape:
        return None
    return _meta(shape, mat1.dtype)


def _mm(args, kwargs):
    a, b = args
    if kwargs or a.dim() != 2 or b.dim() != 2 or a.shape[1] != b.shape[0] or a.dtype != b.dtype:
        return None
    return _meta((a.shape[0], b.shape[1]), a.dtype)


def _conv_out(size, k, s, p, d) -> int:
    return (size + 2 * p - d * (k - 1) - 1) // s + 1


def _convolution(args, kwargs):
    if kwargs or len(args) != 9:
        return None
    x, w, bias, stride, padding, dilation, transposed, output_padding, groups = args
    spatial = w.dim() - 2
    if transposed or x.dim() != w.dim() or not _plain(x, w) or x.shape[1] != w.shape[1] * groups \
            or len(stride) != spatial or len(padding) != spatial or len(dilation) != spatial:
        return None
    if bias is not None and (not _plain(x, bias) or tuple(bias.shape) != (w.shape[0],)):
        return None
    out = [_conv_out(x.shape[2 + i], w.shape[2 + i], stride[i], padding[i], dilation[i]) for i in range(spatial)]
    if min(out) <= 0:
        return None  # torch's kernel says what is wrong
    return _meta((x.shape[0], w.shape[0], *out), x.dtype)


def _pool_out(size, k, s, p, d, ceil) -> int:
    span = size + 2 * p - d * (k - 1) - 1
    out = (-(-span // s) if ceil else span // s) + 1
    if ceil and (out - 1) * s >= size + p:
        out -= 1
    return out


def _pool_shape(x, kernel, stride, padding, dilation, ceil, spatial: int) -> Optional[tuple]:
    """Output shape of a max or average pooling over ``spatial`` dimensions in the plain case, or None to leave
    it to torch."""
    stride = stride if len(stride) else kernel
    geometry = [list(v) * spatial if len(v) == 1 else list(v) for v in (kernel, stride, padding, dilation)]
    if x.dim() != spatial + 2 or not _plain(x) or any(len(v) != spatial for v in geometry) \
            or any(geometry[2][i] * 2 > geometry[0][i] for i in range(spatial)):
        return None
    k, s, p, d = geometry
    out = [_pool_out(x.shape[2 + i], k[i], s[i], p[i], d[i], ceil) for i in range(spatial)]
    return (x.shape[0], x.shape[1], *out) if min(out) > 0 else None


def _max_pool2d_with_indices(args, kwargs):
    # (input, kernel_size, stride=[], padding=0, dilation=1, ceil_mode=False)
    if kwargs:
        return None
    x, kernel = args[0], args[1]
    shape = _pool_shape(x, kernel, args[2] if len(args) > 2 else (), args[3] if len(args) > 3 else (0,),
                        args[4] if len(args) > 4 else (1,), bool(args[5]) if len(args) > 5 else False, 2)
    return None if shape is None else (_meta(shape, x.dtype), _meta(shape, torch.int64))


def _adaptive_avg_pool2d(args, kwargs):
    x, size = args
    if kwargs or x.dim() != 4 or not _plain(x) or len(size) != 2 or min(x.shape) <= 0:
        return None
    return _meta((x.shape[0], x.shape[1], *size), x.dtype)


def _avg_pool(spatial: int):
    def kernel(args, kwargs):
        # (input, kernel_size, stride=[], padding=0, ceil_mode=False, count_include_pad=True, divisor_override=None)
        if kwargs:
            return None
        x = args[0]
        shape = _pool_shape(x, args[1], args[2] if len(args) > 2 else (), args[3] if len(args) > 3 else (0,), (1,),
                            bool(args[4]) if len(args) > 4 else False, spatial)
        return None if shape is None else _meta(shape, x.dtype)

    return kernel


def _softmax(args, kwargs):
    # _softmax(input, dim, half_to_float): same shape and dtype unless a half input asks for a float result
    x, dim, half_to_float = args
    if kwargs or half_to_float or not _plain(x) or x.dim() == 0 or not -x.dim() <= dim < x.dim():
        return None
    return _meta(x.shape, x.dtype)


def _mean_dim(args, kwargs):
    x, dims = args[0], args[1]
    keepdim = bool(args[2]) if len(args) > 2 else bool(kwargs.get("keepdim", False))
    if len(args) > 3 or set(kwargs) - {"keepdim"} or not _plain(x) or not dims or x.dim() == 0:
        return None
    axes = {d % x.dim() for d in dims}
    if len(axes) != len(dims):
        return None
    shape = [1 if i in axes else n for i, n in enumerate(x.shape) if keepdim or i not in axes]
    return _meta(shape, x.dtype)


def _cat(args, kwargs):
    tensors = list(args[0])
    dim = args[1] if len(args) > 1 else kwargs.get("dim", 0)
    if len(args) > 2 or set(kwargs) - {"dim"} or not tensors or not _plain(*tensors):
        return None
    rank = tensors[0].dim()
    if rank == 0 or any(t.dim() != rank or t.numel() == 0 for t in tensors):
        return None
    dim %= rank
    shape = list(tensors[0].shape)
    if any(list(t.shape[:dim]) + list(t.shape[dim + 1:]) != shape[:dim] + shape[dim + 1:] for t in tensors):
        return None
    shape[dim] = sum(t.shape[dim] for t in tensors)
    return _meta(shape, tensors[0].dtype)


def _pixel_shuffle(up: bool):
    """pixel_shuffle (``up``) or pixel_unshuffle of a contiguous input: a contiguous result. (torch's meta kernel
    for them starts with a ``torch._check``, whose first call imports sympy: over a second.)"""

    def kernel(args, kwargs):
        x, r = args
        if kwargs or x.dim() < 3 or not _plain(x) or x.numel() == 0 or not isinstance(r, int) or r < 1:
            return None
        *batch, c, h, w = x.shape
        if up:
            shape = None if c % (r * r) else (*batch, c // (r * r), h * r, w * r)
        else:
            shape = None if h % r or w % r else (*batch, c * r * r, h // r, w // r)
        return None if shape is None else _meta(shape, x.dtype)

    return kernel


def _native_layer_norm(args, kwargs):
    """native_layer_norm(input, normalized_shape, weight, bias, eps): the output, then the mean and 1/std over
    the normalised dimensions (kept as 1s), float32 for a half input. torch's meta kernel for it is a Python
    reference wrapped against the compiler: some 8 ms a call, a tenth of a vision transformer's recording."""
    x, normalized = args[0], args[1]
    if kwargs or len(args) != 5 or not _plain(x) or not normalized or len(normalized) > x.dim() \
            or tuple(x.shape[x.dim() - len(normalized):]) != tuple(normalized) or x.numel() == 0:
        return None
    for t in args[2:4]:
        if t is not None and (not isinstance(t, torch.Tensor) or tuple(t.shape) != tuple(normalized)):
            return None
    stats = (*x.shape[:x.dim() - len(normalized)], *(1,) * len(normalized))
    stat_dtype = torch.float32 if x.dtype in _REDUCED else x.dtype
    return _meta(x.shape, x.dtype), _meta(stats, stat_dtype), _meta(stats, stat_dtype)


def _batch_norm_stats(x, channels) -> torch.Tensor:
    return _meta((channels,), torch.float32 if x.dtype in _REDUCED else x.dtype)


def _bn_eval(args, kwargs):
    # _native_batch_norm_legit_no_training(input, weight, bias, running_mean, running_var, momentum, eps)
    x, weight, bias, mean, var = args[:5]
    if kwargs or x.dim() < 2 or not _plain(x) or mean is None or var is None:
        return None
    c = x.shape[1]
    if any(t is not None and tuple(t.shape) != (c,) for t in (weight, bias, mean, var)):
        return None
    return _meta(x.shape, x.dtype), _batch_norm_stats(x, c), _batch_norm_stats(x, c)


def _native_batch_norm(args, kwargs):
    # native_batch_norm(input, weight, bias, running_mean, running_var, training, momentum, eps). In training
    # torch's meta kernel is a Python decomposition (var_mean through the prims) that imports torch._dynamo and
    # sympy on its first call and takes about a millisecond a call after: half a training step's recording.
    if kwargs or len(args) != 8:
        return None
    if not args[5]:
        return _bn_eval(args[:5] + args[6:], {})
    x = args[0]
    if x.dim() < 2 or not _plain(x):
        return None
    c = x.shape[1]
    if any(t is not None and (tuple(t.shape) != (c,) or not t.is_meta) for t in args[1:5]):
        return None
    # The output, then the batch's mean and 1/std per channel (the running statistics are updated in place).
    return _meta(x.shape, x.dtype), _batch_norm_stats(x, c), _batch_norm_stats(x, c)


def _native_batch_norm_backward(args, kwargs):
    # native_batch_norm_backward(grad_out, input, weight, running_mean, running_var, save_mean, save_invstd,
    # train, eps, output_mask): the gradients the mask asks for, of the input and of the per-channel weight and
    # bias, in the input's dtype. A Python decomposition in torch too, as slow as the forward's.
    if kwargs or len(args) != 10:
        return None
    grad, x, weight, mask = args[0], args[1], args[2], args[9]
    if x.dim() < 2 or not _plain(grad, x) or tuple(grad.shape) != tuple(x.shape) or len(mask) != 3:
        return None
    c = x.shape[1]
    if weight is not None and (tuple(weight.shape) != (c,) or weight.dtype != x.dtype or not weight.is_meta):
        return None
    return (_meta(x.shape, x.dtype) if mask[0] else None, _meta((c,), x.dtype) if mask[1] else None,
            _meta((c,), x.dtype) if mask[2] else None)


def _nll_loss_forward(args, kwargs):
    # nll_loss_forward(self, target, weight, reduction, ignore_index) of (N, C) log-probabilities and (N,) class
    # indices: the loss (per sample with reduction 0, else a scalar) and the total weight (a scalar). torch's
    # meta kernel is a decomposition whose ``torch._check`` imports sympy, and torch._dynamo after it.
    x, target, weight, reduction = args[0], args[1], args[2], args[3]
    if kwargs or len(args) != 5 or x.dim() != 2 or not _plain(x) or weight is not None \
            or not isinstance(target, torch.Tensor) or not target.is_meta or target.dtype != torch.long \
            or tuple(target.shape) != (x.shape[0],) or reduction not in (0, 1, 2):
        return None
    return _meta((x.shape[0],) if reduction == 0 else (), x.dtype), _meta((), x.dtype)


def _nll_loss_backward(args, kwargs):
    # nll_loss_backward(grad_output, self, target, weight, reduction, ignore_index, total_weight)
    x, target, weight, reduction = args[1], args[2], args[3], args[4]
    if kwargs or len(args) != 7 or x.dim() != 2 or not _plain(x) or weight is not None \
            or not isinstance(target, torch.Tensor) or tuple(target.shape) != (x.shape[0],) \
            or reduction not in (0, 1, 2):
        return None
    return _meta(x.shape, x.dtype)


def _log_softmax_backward_data(args, kwargs):
    # _log_softmax_backward_data(grad_output, output, dim, input_dtype)
    grad, out, dim, dtype = args[0], args[1], args[2], args[3]
    if kwargs or len(args) != 4 or not _plain(grad, out) or tuple(grad.shape) != tuple(out.shape) \
            or not isinstance(dim, int) or not -grad.dim() <= dim < max(grad.dim(), 1) \
            or dtype not in (grad.dtype, torch.float32):
        return None
    return _meta(grad.shape, dtype)


def _like(args, kwargs):
    # ones_like / zeros_like / empty_like of a meta tensor in row-major order (the seed of every backward pass is
    # a ones_like, whose reference kernel imports sympy): a contiguous tensor of its shape. (A row-major tensor
    # that is dense is contiguous; one that is not, a slice, gets the contiguous layout in torch too.)
    x = args[0]
    if len(args) != 1 or not isinstance(x, torch.Tensor) or not x.is_meta \
            or not (x.is_contiguous() or _row_major(x)) \
            or set(kwargs) - {"dtype", "layout", "device", "pin_memory", "memory_format"} \
            or kwargs.get("layout") not in (None, torch.strided) or kwargs.get("pin_memory") \
            or kwargs.get("memory_format") not in (None, torch.preserve_format, torch.contiguous_format) \
            or (kwargs.get("device") is not None and torch.device(kwargs["device"]).type != "meta"):
        return None
    return _meta(x.shape, kwargs.get("dtype") or x.dtype)


def _threshold_backward(args, kwargs):
    # threshold_backward(grad_output, self, threshold): ReLU's gradient, shaped as its two operands
    grad, x = args[0], args[1]
    if kwargs or len(args) != 3 or not isinstance(x, torch.Tensor) or not _row_major(grad, x) \
            or tuple(grad.shape) != tuple(x.shape):
        return None
    return _meta(grad.shape, grad.dtype)


def _binary_scalar_inplace(args, kwargs):
    # dropout's scaling in training, ``x.div_(1 - p)``
    return args[0] if _binary_scalar(args, kwargs) is not None else None


def _constant_pad_nd(args, kwargs):
    # constant_pad_nd(input, pad, value): pad = (left, right) pairs from the last dimension back (local
    # response normalisation pads its squared input). A negative amount crops, and torch's result then keeps
    # the input's strides on its dimensions of size 1: left to torch.
    x, pad = args[0], args[1]
    if kwargs or len(args) > 3 or not _plain(x) or len(pad) % 2 or len(pad) // 2 > x.dim() \
            or not all(isinstance(p, int) and p >= 0 for p in pad):
        return None
    shape = list(x.shape)
    for i in range(len(pad) // 2):
        shape[-1 - i] += pad[2 * i] + pad[2 * i + 1]
    return _meta(shape, x.dtype)


def _pointwise_backward(n_args: int):
    """An activation's gradient, ``op(grad_output, output or input, *numbers)``: shaped as its two operands.
    (sigmoid's, tanh's and leaky ReLU's meta kernels are Python decompositions: a third of a millisecond.)"""

    def kernel(args, kwargs):
        grad, x = args[0], args[1]
        if kwargs or len(args) != n_args or not isinstance(x, torch.Tensor) or not _row_major(grad, x) \
                or tuple(grad.shape) != tuple(x.shape) or any(isinstance(a, torch.Tensor) for a in args[2:]):
            return None
        return _meta(grad.shape, grad.dtype)

    return kernel


def _pool_backward(args, kwargs):
    # max_pool2d_with_indices_backward(grad_output, self, ...) / avg_pool{2,3}d_backward(grad_output, self, ...):
    # the gradient of the pool's input, shaped as it (in the input's layout: the gradient may be a slice)
    grad, x = args[0], args[1]
    if kwargs or not _plain(x) or not _row_major(grad, x) or grad.dim() != x.dim():
        return None
    return _meta(x.shape, x.dtype)


def _convolution_backward(args, kwargs):
    # convolution_backward(grad_output, input, weight, bias_sizes, stride, padding, dilation, transposed,
    # output_padding, groups, output_mask): the gradients the mask asks for, shaped as the input, the weight and
    # the bias. torch's meta kernel asks for the input's memory format through code that imports sympy.
    if kwargs or len(args) != 11:
        return None
    grad, x, weight, bias_sizes, mask = args[0], args[1], args[2], args[3], args[10]
    # (the gradient may be expanded: a summed output's)
    if not _plain(x, weight) or not _row_major(grad, x) or len(mask) != 3 or (mask[2] and bias_sizes is None):
        return None
    return (_meta(x.shape, x.dtype) if mask[0] else None, _meta(weight.shape, weight.dtype) if mask[1] else None,
            _meta(tuple(bias_sizes), grad.dtype) if mask[2] else None)


def _unary(args, kwargs):
    x = args[0]
    if not isinstance(x, torch.Tensor) or not _plain(x) or any(isinstance(a, torch.Tensor) for a in args[1:]) \
            or any(isinstance(v, torch.Tensor) for v in kwargs.values()):
        return None
    return _meta(x.shape, x.dtype)


def _unary_inplace(args, kwargs):
    return args[0] if _unary(args, kwargs) is not None else None


def _binary(args, kwargs):
    a, b = args[0], args[1]
    if set(kwargs) - {"alpha"} or len(args) > 2 or not isinstance(a, torch.Tensor) or not _plain(a):
        return None
    if isinstance(b, torch.Tensor):
        # broadcasting contiguous operands of one dtype gives a contiguous result of that dtype
        shape = _broadcast(a.shape, b.shape) if _plain(a, b) else None
        return None if shape is None else _meta(shape, a.dtype)
    if not isinstance(b, (int, float)) or isinstance(b, bool):
        return None
    return _meta(a.shape, a.dtype)


def _binary_scalar(args, kwargs):
    # (tensor, number): the ``.Scalar`` overloads, also of an expanded tensor (a mean's backward divides the
    # expanded gradient by the count)
    a, b = args[0], args[1]
    if kwargs or len(args) != 2 or not isinstance(a, torch.Tensor) or not _row_major(a) \
            or not isinstance(b, (int, float)) or isinstance(b, bool):
        return None
    return _meta(a.shape, a.dtype)


def _binary_inplace(args, kwargs):
    out = _binary(args, kwargs)
    return args[0] if out is not None and out.shape == args[0].shape else None


_UNARY = ("relu", "sigmoid", "tanh", "silu", "gelu", "hardswish", "hardsigmoid", "hardtanh", "clamp_min", "leaky_relu",
          "neg")
_BINARY = ("add", "sub", "mul", "div")

# op overload -> shape-only kernel: returns the result, or None to let torch's own meta kernel decide
SHAPE_KERNELS: dict[object, Callable[[tuple, dict], Optional[object]]] = {
    aten.addmm.default: _addmm,
    aten.mm.default: _mm,
    aten.convolution.default: _convolution,
    aten.max_pool2d_with_indices.default: _max_pool2d_with_indices,
    aten._adaptive_avg_pool2d.default: _adaptive_avg_pool2d,
    aten.avg_pool2d.default: _avg_pool(2),
    aten.avg_pool3d.default: _avg_pool(3),
    aten._softmax.default: _softmax,
    aten._log_softmax.default: _softmax,
    aten.mean.dim: _mean_dim,
    aten.sum.dim_IntList: _mean_dim,
    aten.cat.default: _cat,
    aten.pixel_shuffle.default: _pixel_shuffle(True),
    aten.pixel_unshuffle.default: _pixel_shuffle(False),
    aten.pow.Tensor_Scalar: _unary,
    aten._native_batch_norm_legit_no_training.default: _bn_eval,
    aten.native_batch_norm.default: _native_batch_norm,
    aten.native_batch_norm_backward.default: _native_batch_norm_backward,
    aten.threshold_backward.default: _threshold_backward,
    aten.sigmoid_backward.default: _pointwise_backward(2),
    aten.tanh_backward.default: _pointwise_backward(2),
    aten.leaky_relu_backward.default: _pointwise_backward(4),
    aten._softmax_backward_data.default: _log_softmax_backward_data,
    aten.max_pool2d_with_indices_backward.default: _pool_backward,
    aten.avg_pool2d_backward.default: _pool_backward,
    aten.avg_pool3d_backward.default: _pool_backward,
    aten.convolution_backward.default: _convolution_backward,
    aten.constant_pad_nd.default: _constant_pad_nd,
    aten.nll_loss_forward.default: _nll_loss_forward,
    aten.nll_loss_backward.default: _nll_loss_backward,
    aten._log_softmax_backward_data.default: _log_softmax_backward_data,
    aten.ones_like.default: _like,
    aten.zeros_like.default: _like,
    aten.empty_like.default: _like,
    aten.div.Scalar: _binary_scalar,
    aten.mul.Scalar: _binary_scalar,
    aten.div_.Scalar: _binary_scalar_inplace,
    aten.mul_.Scalar: _binary_scalar_inplace,
    aten.native_layer_norm.default: _native_layer_norm,
    **{getattr(aten, name).default: _unary for name in _UNARY},
    **{getattr(aten, name + "_").default: _unary_inplace for name in _UNARY},
    **{getattr(aten, name).Tensor: _binary for name in _BINARY},
    **{getattr(aten, name + "_").Tensor: _binary_inplace for name in _BINARY},
}

_enabled = True


class reference_kernels:
    """Within this context every op runs torch's own kernel (what the shape kernels are tested against)."""

    def __enter__(self):
        global _enabled
        self._was, _enabled = _enabled, False

    def __exit__(self, *exc):
        global _enabled
        _enabled = self._was


def call_op(func, args: tuple, kwargs: dict):
    """``func(*args, **kwargs)``, through a shape-only kernel when there is one and it applies."""
    fast = SHAPE_KERNELS.get(func) if _enabled else None
    first = args[0][0] if args and isinstance(args[0], (list, tuple)) and args[0] else (args[0] if args else None)
    if fast is not None and isinstance(first, torch.Tensor) and first.is_meta:
        out = fast(args, kwargs)
        if out is not None:
            return out
    return func(*args, **kwargs)


_IN_PLACE: dict = {}  # op overload -> whether it writes into its first argument and returns it (read once)


def _writes_in_place(func) -> bool:
    known = _IN_PLACE.get(func)
    if known is None:
        schema = func._schema
        known = _IN_PLACE[func] = bool(schema.arguments) and schema.arguments[0].alias_info is not None \
            and schema.arguments[0].alias_info.is_write and len(schema.returns) == 1 \
            and schema.returns[0].alias_info is not None
    return known


class _MetaBuild(LightDispatchMode):
    """Building a model on the meta device: weight initialisers write values that do not exist there, so an
    in-place op on a meta tensor returns its tensor at once (what it would return anyway) instead of running
    torch's Python reference kernels (``normal_``, ``uniform_``, ``kaiming_normal_``...)."""

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if args and isinstance(args[0], torch.Tensor) and args[0].is_meta and _writes_in_place(func):
            return args[0]
        return call_op(func, args, kwargs)


def building_on_meta():
    """Context for building a model under ``torch.device("meta")``: same modules, same shapes, no initialiser
    work."""
    return _MetaBuild()


# torch.nn.init's in-place initialisers, each of which returns the tensor it was given.
_INITIALISERS = ("uniform_", "normal_", "trunc_normal_", "constant_", "ones_", "zeros_", "eye_", "dirac_",
                 "xavier_uniform_", "xavier_normal_", "kaiming_uniform_", "kaiming_normal_", "orthogonal_", "sparse_")


def _skipped_on_meta(init: Callable) -> Callable:
    def initialiser(tensor, *args, **kwargs):
        if isinstance(tensor, torch.Tensor) and tensor.is_meta:
            return tensor
        return init(tensor, *args, **kwargs)

    return initialiser


@contextmanager
def skipping_initialisers():
    """Within this context torch.nn.init's initialisers return a meta tensor at once, as they would after writing
    values it does not have; any other tensor is initialised as usual. For constructors that initialise only
    through torch.nn.init and the layers' own ``reset_parameters`` (our zoo), this is ``building_on_meta``
    without a dispatch mode: the mode costs every op of the build a call into Python, about half the time of
    building the zoo. torch.nn.init is restored on the way out, returned or raised."""
    saved = {name: getattr(nn.init, name) for name in _INITIALISERS}
    try:
        for name, init in saved.items():
            setattr(nn.init, name, _skipped_on_meta(init))
        yield
    finally:
        for name, init in saved.items():
            setattr(nn.init, name, init)
