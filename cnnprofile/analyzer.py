"""``profile()``: the one front door. It resolves a model spec, a ``ModelSource`` or a user's ``nn.Module``
and hands the module to the chosen engine (``cnnprofile.engines``)."""
from __future__ import annotations

from typing import TYPE_CHECKING, Optional, Union

from .engines import get_engine
from .inputs import parse_dtype

if TYPE_CHECKING:
    import torch
    from torch import nn

    from .records import Profile
    from .sources import ModelSource


def profile(model: Union[str, "ModelSource", "nn.Module"], input_size=None, *, batch: Optional[int] = None,
            dtype: Union[str, "torch.dtype"] = "float32", kwargs: Optional[dict] = None, engine: str = "meta",
            formulas: Optional[dict] = None) -> "Profile":
    """Profile a model by name or spec (``"resnet50"``, ``"torchvision:resnet50"``, ``"file.py:build"``; see
    ``cnnprofile.sources``), a resolved ``ModelSource`` or any ``nn.Module`` (left exactly as it was).

    ``input_size`` is (N, C, H, W), (C, H, W) or a string such as ``"1x3x224x224"``; a named model defaults to
    its native size. ``batch`` overrides N. ``kwargs`` go to the model's builder. ``engine`` is one of
    ``cnnprofile.engines.ENGINES``. ``formulas`` maps op names (``"aten.gelu"``, ``"mylib.my_op"``) or ops
    (``torch.ops.mylib.my_op``) to ``fn(args, kwargs, out) -> Cost``, adding to or replacing the registry's
    formulas for this call (see ``cnnprofile.register_formula`` to add them for good).
    """
    from .sources import module_and_shape

    counter = get_engine(engine)
    dtype = parse_dtype(dtype) if isinstance(dtype, str) else dtype
    module, shape, name = module_and_shape(model, input_size, batch, kwargs, device=counter.build_device)
    return counter.count(module, shape, dtype=dtype, name=name or type(module).__name__, formulas=formulas)


__all__ = ["profile"]
