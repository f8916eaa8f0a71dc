"""Shape kernels of a training step: batch norm's, convolution's, pooling's and the activations' gradients,
the loss and the backward pass's seed. Their torch meta kernels are Python decompositions, about a millisecond
a call for batch norm, that import torch._dynamo and sympy on their first call."""
from __future__ import annotations

import torch

from .layout import _meta, _plain, _row_major


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


def _pointwise_backward(n_args: int):
    """An activation's gradient, ``op(grad_output, output or input, *numbers)``: shaped as its two operands.
    (ReLU's threshold_backward, sigmoid's, tanh's and leaky ReLU's meta kernels are Python decompositions: a
    third of a millisecond.)"""

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
