"""Formulas for the ops a training step dispatches beyond the forward pass: backward kernels and the loss.

Registered into the same ``FORMULAS`` registry as the forward ops (``cnnprofile.analyses.formulas``), so an op without a
formula is still reported as uncounted, never as zero. A backward kernel costs what it computes: a convolution's
input gradient is only counted when autograd asks for it (``output_mask``), as in the first layer or below
frozen layers, where it is not computed at all.
"""
from __future__ import annotations

from math import prod

from .formulas import Cost, first_tensor, formula


def _numel(t) -> int:
    t = first_tensor(t) if not hasattr(t, "numel") else t
    return t.numel() if t is not None else 0


@formula("aten.convolution_backward",
         rule="input gradient and weight gradient each cost the forward convolution's MACs, only where computed "
              "(output_mask); FLOPs = 2 x MACs + output elements for the bias gradient")
def _conv_backward(args, kwargs, out):
    grad_out, x, w = args[0], args[1], args[2]
    transposed = bool(args[7])
    mask = args[10] if len(args) > 10 else kwargs.get("output_mask", (True, True, True))
    kernel = prod(w.shape[2:])
    forward = (x.numel() if transposed else grad_out.numel()) * w.shape[1] * kernel
    macs = forward * (int(bool(mask[0])) + int(bool(mask[1])))
    return Cost(macs, 2 * macs + (grad_out.numel() if mask[2] else 0))


def _per_output(flops_each: int):
    return lambda args, kwargs, out: Cost(0, flops_each * _numel(out))


formula("aten.threshold_backward", "aten.native_dropout_backward", "aten.max_pool2d_with_indices_backward",
        "aten.max_pool3d_with_indices_backward", "aten.avg_pool2d_backward", "aten.avg_pool3d_backward",
        "aten._adaptive_avg_pool2d_backward", "aten._adaptive_avg_pool3d_backward",
        "aten.adaptive_max_pool2d_backward", "aten.leaky_relu_backward", "aten.bernoulli", "aten.bernoulli_",
        rule="1 FLOP per gradient element (a masked copy, scatter or scaled sum; a dropout draw's comparison)")(
    _per_output(1))
formula("aten.hardtanh_backward", "aten.sigmoid_backward", "aten.tanh_backward", "aten.hardsigmoid_backward",
        "aten.hardswish_backward", "aten.elu_backward",
        rule="2 FLOPs per gradient element (the activation's derivative times the incoming gradient)")(
    _per_output(2))
formula("aten.silu_backward", "aten.gelu_backward", "aten.mish_backward", "aten.softplus_backward",
        rule="4 FLOPs per gradient element (derivative of a smooth activation, times the incoming gradient)")(
    _per_output(4))
formula("aten._softmax_backward_data", "aten._log_softmax_backward_data",
        rule="3 FLOPs per element (a row sum, a product and a difference)")(_per_output(3))


def _norm_backward(args, kwargs, out):
    return Cost(0, 8 * _numel(args[0]))


formula("aten.native_batch_norm_backward", "aten.native_layer_norm_backward", "aten.native_group_norm_backward",
        "aten.cudnn_batch_norm_backward", "aten.batch_norm_backward",
        rule="8 FLOPs per element: 3 for the two reductions (weight and bias gradients), 5 for the input gradient")(
    _norm_backward)


def _per_target(args, kwargs, out):
    target = args[1]
    return Cost(0, target.numel())


formula("aten.nll_loss_forward", "aten.nll_loss_backward", "aten.nll_loss2d_forward", "aten.nll_loss2d_backward",
        rule="1 FLOP per target (pick, or scatter, one log-probability)")(_per_target)

formula("aten.select_backward", "aten.slice_backward", "aten.new_empty_strided",
        rule="0 FLOPs: the gradient of a view, scattered into zeros (data movement only)")(
    lambda args, kwargs, out: Cost())
formula("aten.index_add", "aten.index_put",
        rule="1 FLOP per source element added into the gradient (the backward of a gather or an index)")(
    lambda args, kwargs, out: Cost(0, _numel(args[3] if len(args) > 3 and hasattr(args[3], "numel") else args[2])))
