"""The op formula registry: the cost of every ATen operator we count, computed from shapes alone.

Keys are operator overload packets (``aten.convolution``, ``mylib.my_op``); an op missing from this registry is
reported as uncounted, never as zero. Ops that do no arithmetic (views, copies, concatenation) are registered
explicitly with zero cost so that "0" always means "we know it is free". Users add formulas for their own ops
with ``register_formula`` (for good) or ``cnnprofile.profile(..., formulas={...})`` (for one call).
"""
from __future__ import annotations

from dataclasses import dataclass
from math import prod
from typing import Any, Callable, Mapping, Optional

import torch

from ..errors import InputError


@dataclass(frozen=True)
class Cost:
    macs: int = 0
    flops: int = 0  # all FLOPs, including 2 x macs


Formula = Callable[[tuple, dict, Any], Cost]
FORMULAS: dict[str, Formula] = {}
# The human-readable rule of each formula, for the conventions text and the docs.
RULES: dict[str, str] = {}


def formula(*names: str, rule: str):
    def register(fn: Formula) -> Formula:
        for name in names:
            if name in FORMULAS:
                raise ValueError(f"formula for {name} registered twice")
            FORMULAS[name] = fn
            RULES[name] = rule
        return fn

    return register


def op_name(op) -> str:
    """The registry's key for an op given as a name (``"mylib.my_op"``, ``"mylib::my_op"``) or as the op itself
    (``torch.ops.mylib.my_op`` or one of its overloads, ``torch.ops.mylib.my_op.default``)."""
    if isinstance(op, str):
        return op.replace("::", ".")
    if isinstance(op, torch._ops.OpOverload):
        op = op.overloadpacket
    if isinstance(op, torch._ops.OpOverloadPacket):
        return str(op)
    raise InputError(f"expected an op name such as 'mylib.my_op' or torch.ops.mylib.my_op, got {op!r}")


def register_formula(op, fn: Optional[Formula] = None, *, rule: str = ""):
    """Count ``op`` (a custom op of yours, e.g. one defined with ``torch.library``) with ``fn(args, kwargs, out)
    -> Cost`` from now on; ``args``/``kwargs``/``out`` are the op's (meta) tensors and values. Usable as a
    decorator. Ops that already have a formula are refused: pass ``formulas=`` to ``profile()`` to override one
    for a call."""
    def register(fn: Formula) -> Formula:
        key = op_name(op)
        if key in FORMULAS:
            raise InputError(f"{key} already has a formula; pass formulas={{{key!r}: ...}} to profile() to "
                             "override it for one call")
        FORMULAS[key] = fn
        RULES[key] = rule or f"user formula {getattr(fn, '__qualname__', fn)!s}"
        return fn

    return register if fn is None else register(fn)


def first_tensor(value) -> Optional[torch.Tensor]:
    """The first tensor in ``value`` (a tensor, or nested tuples/lists of them), or None."""
    if isinstance(value, torch.Tensor):
        return value
    if isinstance(value, (tuple, list)):
        for v in value:
            t = first_tensor(v)
            if t is not None:
                return t
    return None


def _out_numel(out) -> int:
    t = first_tensor(out)
    return t.numel() if t is not None else 0


def cost_of(name: str, args: tuple, kwargs: dict, out: Any, formulas: Optional[Mapping] = None) -> Optional[Cost]:
    """Cost of one dispatched op, or None when there is no formula for it. ``formulas`` (op name -> formula)
    come first: one call's additions and overrides."""
    fn = formulas.get(name) if formulas else None
    fn = fn or FORMULAS.get(name)
    if fn is None:
        return None
    cost = fn(args, kwargs, out)
    if not isinstance(cost, Cost):
        raise InputError(f"the formula for {name} returned {type(cost).__name__}; a formula returns "
                         "cnnprofile.Cost(macs=..., flops=...)")
    return cost


# --- multiply-accumulate ops -------------------------------------------------------------------------------

@formula("aten.convolution", "aten._convolution", "aten.cudnn_convolution", "aten.mkldnn_convolution",
         rule="MACs = output elements x (C_in / groups) x kernel elements (transposed: input elements x "
              "(C_out / groups) x kernel elements); FLOPs = 2 x MACs + output elements if there is a bias")
def _conv(args, kwargs, out):
    x, w = args[0], args[1]
    bias = args[2] if len(args) > 2 else kwargs.get("bias")
    transposed = bool(args[6]) if len(args) > 6 else bool(kwargs.get("transposed", False))
    kernel = prod(w.shape[2:])
    macs = x.numel() * w.shape[1] * kernel if transposed else _out_numel(out) * w.shape[1] * kernel
    return Cost(macs, 2 * macs + (_out_numel(out) if bias is not None else 0))


@formula("aten.mm", rule="MACs = m x k x n")
def _mm(args, kwargs, out):
    a, b = args[0], args[1]
    macs = a.shape[0] * a.shape[1] * b.shape[1]
    return Cost(macs, 2 * macs)


@formula("aten.addmm", rule="MACs = m x k x n; FLOPs = 2 x MACs + m x n for the added bias")
def _addmm(args, kwargs, out):
    a, b = args[1], args[2]
    macs = a.shape[0] * a.shape[1] * b.shape[1]
    return Cost(macs, 2 * macs + _out_numel(out))


@formula("aten.bmm", rule="MACs = batch x m x k x n")
def _bmm(args, kwargs, out):
    a, b = args[0], args[1]
    macs = a.shape[0] * a.shape[1] * a.shape[2] * b.shape[2]
    return Cost(macs, 2 * macs)


@formula("aten.baddbmm", rule="MACs = batch x m x k x n; FLOPs = 2 x MACs + batch x m x n")
def _baddbmm(args, kwargs, out):
    a, b = args[1], args[2]
    macs = a.shape[0] * a.shape[1] * a.shape[2] * b.shape[2]
    return Cost(macs, 2 * macs + _out_numel(out))


@formula("aten.mv", "aten.addmv", rule="MACs = m x n (addmv: + m bias additions in FLOPs)")
def _mv(args, kwargs, out):
    mat = args[0] if args[0].dim() == 2 else args[1]
    macs = mat.shape[0] * mat.shape[1]
    return Cost(macs, 2 * macs + (mat.shape[0] if args[0].dim() == 1 else 0))


@formula("aten.dot", "aten.vdot", rule="MACs = n")
def _dot(args, kwargs, out):
    macs = args[0].numel()
    return Cost(macs, 2 * macs)


@formula("aten._scaled_dot_product_flash_attention", "aten._scaled_dot_product_efficient_attention",
         "aten._scaled_dot_product_cudnn_attention", "aten._scaled_dot_product_flash_attention_for_cpu",
         rule="MACs = B x H x L x S x (E + E_v) for QK^T and AV; FLOPs = 2 x MACs + 5 x B x H x L x S for softmax")
def _sdpa(args, kwargs, out):
    q, k, v = args[0], args[1], args[2]
    b_h = prod(q.shape[:-2])
    length, source = q.shape[-2], k.shape[-2]
    macs = b_h * length * source * (q.shape[-1] + v.shape[-1])
    return Cost(macs, 2 * macs + 5 * b_h * length * source)


# --- per-element arithmetic --------------------------------------------------------------------------------

def _per_output_element(flops_each: int) -> Formula:
    return lambda args, kwargs, out: Cost(0, flops_each * _out_numel(out))


def _per_input_element(flops_each: int) -> Formula:
    return lambda args, kwargs, out: Cost(0, flops_each * first_tensor(args).numel())


_ELEMENTWISE = [
    "add", "add_", "sub", "sub_", "rsub", "mul", "mul_", "div", "div_", "neg", "abs", "reciprocal",
    "relu", "relu_", "threshold", "threshold_", "hardtanh", "hardtanh_", "clamp", "clamp_", "clamp_min",
    "clamp_min_", "clamp_max", "leaky_relu", "leaky_relu_", "prelu", "_prelu_kernel", "sigmoid", "sigmoid_",
    "tanh", "tanh_", "hardsigmoid", "hardsigmoid_", "hardswish", "hardswish_", "silu", "silu_", "gelu",
    "gelu_", "elu", "elu_", "selu", "mish", "softplus", "exp", "log", "sqrt", "rsqrt", "pow", "square",
    "maximum", "minimum", "where", "eq", "ne", "gt", "lt", "ge", "le", "sign", "floor", "ceil", "round",
    "erf", "addcmul", "addcdiv", "lerp", "rsqrt_", "sqrt_", "exp_", "log_", "neg_", "reciprocal_", "pow_",
    "abs_",
]
formula(*(f"aten.{n}" for n in _ELEMENTWISE),
        rule="1 FLOP per output element (arithmetic, comparison or activation function)")(_per_output_element(1))

formula("aten.max_pool1d_with_indices", "aten.max_pool2d_with_indices", "aten.max_pool3d_with_indices",
        "aten.max_pool2d", "aten.max_pool1d", "aten.max_pool3d", "aten.avg_pool1d", "aten.avg_pool2d",
        "aten.avg_pool3d",
        rule="kernel elements per output element (k-1 comparisons or additions, plus the averaging division)")(
    lambda args, kwargs, out: Cost(0, _out_numel(out) * prod(_kernel(args))))


def _kernel(args) -> list:
    k = list(args[1]) if isinstance(args[1], (list, tuple)) else [args[1]]
    spatial = args[0].dim() - 2 if args[0].dim() > 2 else 1
    return k * spatial if len(k) == 1 else k


formula("aten._adaptive_avg_pool2d", "aten._adaptive_avg_pool3d", "aten.adaptive_avg_pool1d",
        "aten.adaptive_max_pool2d", "aten.adaptive_max_pool1d", "aten.adaptive_max_pool3d", "aten.mean",
        "aten.sum", "aten.amax", "aten.amin", "aten.max", "aten.min", "aten.var", "aten.std", "aten.norm",
        "aten.linalg_vector_norm", "aten.logsumexp", "aten.cumsum",
        rule="1 FLOP per input element (reductions and adaptive pooling)")(_per_input_element(1))

formula("aten._softmax", "aten._safe_softmax", "aten._log_softmax", "aten.softmax", "aten.log_softmax",
        rule="3 FLOPs per element (exponential, sum, division)")(_per_output_element(3))

formula("aten.native_batch_norm", "aten._native_batch_norm_legit_no_training", "aten._native_batch_norm_legit",
        "aten.cudnn_batch_norm", "aten.batch_norm",
        rule="2 FLOPs per element in inference (statistics folded into one scale and one shift)")(
    _per_output_element(2))

formula("aten.native_layer_norm", "aten.native_group_norm", "aten.layer_norm", "aten.group_norm",
        "aten._fused_rms_norm", "aten.rms_norm",
        rule="5 FLOPs per element (mean, variance, normalise, scale, shift)")(_per_output_element(5))

formula("aten.upsample_bilinear2d", "aten._upsample_bilinear2d_aa",
        rule="7 FLOPs per output element (4 multiplies, 3 additions)")(_per_output_element(7))
formula("aten.upsample_bicubic2d", rule="31 FLOPs per output element (16 multiplies, 15 additions)")(
    _per_output_element(31))
formula("aten.upsample_linear1d", rule="3 FLOPs per output element")(_per_output_element(3))

# --- no arithmetic ---------------------------------------------------------------------------------------------
_FREE = [
    "view", "_unsafe_view", "reshape", "t", "transpose", "permute", "expand", "squeeze", "unsqueeze", "select",
    "slice", "as_strided", "as_strided_", "cat", "stack", "clone", "contiguous", "constant_pad_nd", "pad",
    "reflection_pad2d", "replication_pad2d", "empty", "empty_like", "empty_strided", "zeros", "zeros_like",
    "ones", "ones_like", "full", "full_like", "fill", "fill_", "zero_", "copy_", "_to_copy", "detach", "alias",
    "lift_fresh", "lift_fresh_copy", "split", "split_with_sizes", "chunk", "unbind", "index_select", "gather",
    "index", "repeat", "roll", "flip", "new_empty", "new_zeros", "new_ones", "new_full", "arange", "unfold",
    "upsample_nearest1d", "upsample_nearest2d", "upsample_nearest3d", "_unsafe_index", "channel_shuffle",
    "pixel_shuffle", "pixel_unshuffle", "narrow", "diagonal", "masked_fill", "masked_fill_", "scalar_tensor",
    "_local_scalar_dense", "col2im", "im2col",
]
formula(*(f"aten.{n}" for n in _FREE), rule="0 FLOPs: data movement only")(lambda args, kwargs, out: Cost())
