"""Shape kernels of the forward pass: convolution, pooling, normalisation, matrix products, activations and
elementwise arithmetic, concatenation, pixel (un)shuffle (``SHAPE_KERNELS`` in the package)."""
from __future__ import annotations

from typing import Optional

import torch

from .layout import _REDUCED, _broadcast, _meta, _plain, _row_major, channels_last_format


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
    # oneDNN and cuDNN compute in channels-last, and return their output so, when the input or the weight is
    # laid out that way (ATen's mkldnn_conv_use_channels_last, cudnn_conv_suggest_memory_format); torch's meta
    # kernel returns a plain output there, which would send every later op of a channels-last network (a
    # ConvNeXt's after its first downsampling) down the layout it does not run in
    fmt = channels_last_format(x) or channels_last_format(w)
    stated = _plain(x, w) if fmt is None else all(
        t.is_meta and t.is_floating_point() and t.dtype == x.dtype
        and (t.is_contiguous() or t.is_contiguous(memory_format=fmt)) for t in (x, w))
    if transposed or x.dim() != w.dim() or not stated or x.shape[1] != w.shape[1] * groups \
            or len(stride) != spatial or len(padding) != spatial or len(dilation) != spatial:
        return None
    if bias is not None and (not _plain(bias) or bias.dtype != x.dtype or tuple(bias.shape) != (w.shape[0],)):
        return None
    out = [_conv_out(x.shape[2 + i], w.shape[2 + i], stride[i], padding[i], dilation[i]) for i in range(spatial)]
    if min(out) <= 0:
        return None  # torch's kernel says what is wrong
    shape = (x.shape[0], w.shape[0], *out)
    if fmt is not None:
        return torch.empty(shape, dtype=x.dtype, device="meta", memory_format=fmt)
    return _meta(shape, x.dtype)


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
