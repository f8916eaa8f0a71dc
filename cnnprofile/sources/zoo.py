"""The lecture's zoo (``cnnprofile list``) as a model source."""
from __future__ import annotations

from ..inputs import Inputs, TensorSpec
from ..models import get_model_spec
from .base import ModelSource


def zoo_source(name: str, kwargs: dict) -> ModelSource:
    spec = get_model_spec(name)
    # Our own constructors never compute with tensors: they build directly on the meta device.
    return ModelSource(name=spec.name, origin="zoo", builder=spec.build,
                       inputs=Inputs((TensorSpec((1, *spec.input_size)),)), kwargs=kwargs,
                       task=getattr(spec, "task", "classification"), family=spec.family,
                       num_classes=kwargs.get("num_classes", spec.num_classes), build_path="meta",
                       plain_init=True)
