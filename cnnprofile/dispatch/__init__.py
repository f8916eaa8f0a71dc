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
  whole models (forward passes and training steps), that these results are identical in shape, dtype and
  strides to torch's own.

``layout`` says which operands a kernel can state the result of; ``forward`` holds the kernels of a forward
pass, ``backward`` those of a training step; ``SHAPE_KERNELS`` below maps each op to its kernel.
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import Callable, Optional

import torch
from torch import nn
from torch.utils._python_dispatch import TorchDispatchMode

from . import backward as _bw
from . import forward as _fw
from .layout import aten


class LightDispatchMode(TorchDispatchMode):
    """A ``TorchDispatchMode`` that does not import ``torch._dynamo`` on its first op."""

    @classmethod
    def _should_skip_dynamo(cls) -> bool:
        return False


_UNARY = ("relu", "sigmoid", "tanh", "silu", "gelu", "hardswish", "hardsigmoid", "hardtanh", "clamp_min", "leaky_relu",
          "neg")
_BINARY = ("add", "sub", "mul", "div")

# op overload -> shape-only kernel: returns the result, or None to let torch's own meta kernel decide
SHAPE_KERNELS: dict[object, Callable[[tuple, dict], Optional[object]]] = {
    aten.addmm.default: _fw._addmm,
    aten.mm.default: _fw._mm,
    aten.convolution.default: _fw._convolution,
    aten.max_pool2d_with_indices.default: _fw._max_pool2d_with_indices,
    aten._adaptive_avg_pool2d.default: _fw._adaptive_avg_pool2d,
    aten.avg_pool2d.default: _fw._avg_pool(2),
    aten.avg_pool3d.default: _fw._avg_pool(3),
    aten._softmax.default: _fw._softmax,
    aten._log_softmax.default: _fw._softmax,
    aten.mean.dim: _fw._mean_dim,
    aten.sum.dim_IntList: _fw._mean_dim,
    aten.cat.default: _fw._cat,
    aten.pixel_shuffle.default: _fw._pixel_shuffle(True),
    aten.pixel_unshuffle.default: _fw._pixel_shuffle(False),
    aten.pow.Tensor_Scalar: _fw._unary,
    aten._native_batch_norm_legit_no_training.default: _fw._bn_eval,
    aten.native_batch_norm.default: _fw._native_batch_norm,
    aten.native_batch_norm_backward.default: _bw._native_batch_norm_backward,
    aten.threshold_backward.default: _bw._pointwise_backward(3),
    aten.sigmoid_backward.default: _bw._pointwise_backward(2),
    aten.tanh_backward.default: _bw._pointwise_backward(2),
    aten.leaky_relu_backward.default: _bw._pointwise_backward(4),
    aten._softmax_backward_data.default: _bw._log_softmax_backward_data,
    aten.max_pool2d_with_indices_backward.default: _bw._pool_backward,
    aten.avg_pool2d_backward.default: _bw._pool_backward,
    aten.avg_pool3d_backward.default: _bw._pool_backward,
    aten.convolution_backward.default: _bw._convolution_backward,
    aten.constant_pad_nd.default: _fw._constant_pad_nd,
    aten.nll_loss_forward.default: _bw._nll_loss_forward,
    aten.nll_loss_backward.default: _bw._nll_loss_backward,
    aten._log_softmax_backward_data.default: _bw._log_softmax_backward_data,
    aten.ones_like.default: _bw._like,
    aten.zeros_like.default: _bw._like,
    aten.empty_like.default: _bw._like,
    aten.div.Scalar: _fw._binary_scalar,
    aten.mul.Scalar: _fw._binary_scalar,
    aten.div_.Scalar: _fw._binary_scalar_inplace,
    aten.mul_.Scalar: _fw._binary_scalar_inplace,
    aten.native_layer_norm.default: _fw._native_layer_norm,
    **{getattr(aten, name).default: _fw._unary for name in _UNARY},
    **{getattr(aten, name + "_").default: _fw._unary_inplace for name in _UNARY},
    **{getattr(aten, name).Tensor: _fw._binary for name in _BINARY},
    **{getattr(aten, name + "_").Tensor: _fw._binary_inplace for name in _BINARY},
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
