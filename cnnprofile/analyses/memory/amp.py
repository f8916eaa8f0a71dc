"""Autocast on the meta device, emulated.

``torch.autocast`` does nothing to meta tensors: its kernels only cast tensors whose device is the autocast
device. So the casting rules are applied one level up, as a TorchFunctionMode around the forward pass: before a
function on the target's lower-precision list runs, its floating-point tensor arguments are cast to the autocast
dtype; before one on the float32 list, to float32; ``cat``/``stack`` promote to the widest floating type.
Casts are ordinary ``Tensor.to`` calls, so autograd records and saves them exactly as under real autocast.
As torch does, the lower-precision copy of a float32 leaf that requires grad (a weight) is cached until the
autocast region ends, so each weight is cast once per forward pass, in inference too.

The lists below are the functions CNNs and vision transformers reach, taken from
``aten/src/ATen/autocast_mode.cpp`` (CPU and CUDA); functions not listed run in their inputs' types.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch.overrides import TorchFunctionMode
from torch.utils._pytree import tree_map

from ...errors import InputError

AMP_DTYPES = {"bf16": torch.bfloat16, "bfloat16": torch.bfloat16, "fp16": torch.float16, "float16": torch.float16}
# The dtypes torch.autocast accepts per device type.
SUPPORTED = {"cpu": (torch.bfloat16, torch.float16), "cuda": (torch.bfloat16, torch.float16)}

_T = torch.Tensor
_LOWER = (torch.conv1d, torch.conv2d, torch.conv3d, torch.conv_transpose1d, torch.conv_transpose2d,
          torch.conv_transpose3d, F.linear, torch.matmul, _T.matmul, _T.__matmul__, _T.__rmatmul__, torch.mm,
          _T.mm, torch.bmm, _T.bmm, torch.addmm, _T.addmm, torch.baddbmm, _T.baddbmm, torch.addbmm, torch.prelu,
          F.scaled_dot_product_attention)
_FP32 = {
    "cpu": (torch._C._nn.cross_entropy_loss, F.nll_loss, F.mse_loss, F.l1_loss, F.smooth_l1_loss, F.kl_div,
            F.binary_cross_entropy, F.binary_cross_entropy_with_logits, torch.nn.functional.avg_pool3d,
            torch.prod),
    "cuda": (torch._C._nn.cross_entropy_loss, F.nll_loss, F.mse_loss, F.l1_loss, F.smooth_l1_loss, F.kl_div,
             F.binary_cross_entropy_with_logits, torch.softmax, _T.softmax, torch.log_softmax, _T.log_softmax,
             torch.layer_norm, torch.group_norm, torch.sum, _T.sum, torch.exp, torch.log, torch.rsqrt, torch.pow,
             _T.pow, torch.cumsum, torch.norm, torch.logsumexp),
}
_PROMOTE = (torch.cat, torch.stack, torch.addcmul, torch.addcdiv)


def parse_amp(name: str, device: str) -> torch.dtype:
    dtype = AMP_DTYPES.get((name or "").lower())
    if dtype is None:
        raise InputError(f"--amp {name!r} is not an autocast dtype; choose bf16 or fp16")
    if dtype not in SUPPORTED.get(device, ()):
        raise InputError(f"autocast on {device} does not support {name}")
    return dtype


class autocast_emulation(TorchFunctionMode):
    """Autocast's casting rules for ``device`` and ``dtype``, applied to meta tensors.

    ``cache``: keep one lower-precision copy per float32 leaf that requires grad for the whole region (torch's
    autocast weight cache; it applies under ``no_grad`` too, since it keys on the tensor's ``requires_grad``).
    """

    def __init__(self, device: str, dtype: torch.dtype, cache: bool = True):
        super().__init__()
        self.dtype = dtype
        self.lower = set(_LOWER)
        self.fp32 = set(_FP32.get(device, ()))
        self.cache_enabled = cache
        self.cache: dict = {}

    def __exit__(self, *exc):
        self.cache.clear()  # torch frees its cast cache when the outermost autocast region ends
        return super().__exit__(*exc)

    def _cast(self, t, dtype):
        if not isinstance(t, torch.Tensor) or not t.is_floating_point() or t.dtype in (dtype, torch.float64):
            return t
        cacheable = (self.cache_enabled and dtype == self.dtype and t.dtype == torch.float32 and t.requires_grad
                     and t.is_leaf and not t._is_view())
        if cacheable:
            hit = self.cache.get(id(t))
            if hit is not None and hit[0] is t:
                return hit[1]
        out = t.to(dtype)
        if cacheable:
            self.cache[id(t)] = (t, out)
        return out

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if func in self.lower:
            args, kwargs = tree_map(lambda a: self._cast(a, self.dtype), (args, kwargs))
        elif func in self.fp32:
            args, kwargs = tree_map(lambda a: self._cast(a, torch.float32), (args, kwargs))
        elif func in _PROMOTE:
            floats = [a.dtype for a in torch.utils._pytree.tree_leaves((args, kwargs))
                      if isinstance(a, torch.Tensor) and a.is_floating_point()]
            if len(set(floats)) > 1:
                widest = max(floats, key=lambda d: torch.finfo(d).bits)
                args, kwargs = tree_map(lambda a: self._cast(a, widest), (args, kwargs))
        return func(*args, **kwargs)
