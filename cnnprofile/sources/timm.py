"""timm models (``timm:NAME``), built with ``pretrained=False``; their native input from the pretrained config."""
from __future__ import annotations

import fnmatch

from ..errors import CnnprofileError, UnknownModelError
from ..inputs import Inputs, TensorSpec
from .base import ModelSource
from .spec import suggest


def import_timm():
    try:
        import timm
    except ImportError:
        raise CnnprofileError("timm is not installed; pip install timm") from None
    return timm


def timm_source(name: str, kwargs: dict) -> ModelSource:
    timm = import_timm()
    if not timm.is_model(name):
        raise UnknownModelError(f"unknown timm model {name!r}{suggest(name, timm.list_models())}")
    cfg = timm.models.get_pretrained_cfg(name)
    size = tuple(cfg.input_size) if cfg is not None and cfg.input_size else (3, 224, 224)
    features = bool(kwargs.get("features_only"))
    # timm's constructors compute with tensors (drop-path rates: torch.linspace(...).tolist()), which the
    # meta device cannot answer: they always take the registration path.
    return ModelSource(name=f"timm:{name}", origin="timm", builder=timm.create_model,
                       inputs=Inputs((TensorSpec((1, *size)),)), kwargs=kwargs,
                       fixed_kwargs={"model_name": name, "pretrained": False},
                       task="features" if features else "classification",
                       family=getattr(cfg, "architecture", "") or name.split("_")[0],
                       num_classes=None if features else kwargs.get("num_classes", getattr(cfg, "num_classes", None)),
                       build_path="registration")


def timm_names(pattern: str) -> list:
    return [n for n in import_timm().list_models(pattern) if fnmatch.fnmatch(n, pattern)]
