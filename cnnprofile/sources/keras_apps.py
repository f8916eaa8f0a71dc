"""Keras 3 models on the torch backend: ``keras:NAME`` (``keras.applications``) and user factories returning a
``keras.Model``.

Keras reads its backend when it is first imported: unless ``KERAS_BACKEND`` says otherwise we set it to
``torch`` before importing Keras (``cnnprofile`` counts torch ops; another backend is an error). An
application is built with ``weights=None`` (nothing is downloaded) inside ``keras.device`` of the device asked
for, the meta device when profiling: Keras ignores ``torch.device``. Its input is channels-last, N x H x W x C,
at the application's default size (``DEFAULT_SIZE``) or the ``input_shape`` given in ``--kwargs``.
"""
from __future__ import annotations

import functools

import torch

from ..errors import InputError, UnknownModelError
from ..inputs import Inputs, TensorSpec
from .keras_bridge import import_keras, keras_on_meta
from .base import ModelSource
from .spec import suggest

# The default input side of each application family: the ``default_size`` its builder passes to Keras's
# ``obtain_input_shape`` (keras/src/applications/*.py, Keras 3.15; Apache-2.0). 224 for every one not listed.
DEFAULT_SIZE = {"Xception": 299, "InceptionV3": 299, "InceptionResNetV2": 299, "NASNetLarge": 331,
                "EfficientNetB1": 240, "EfficientNetB2": 260, "EfficientNetB3": 300, "EfficientNetB4": 380,
                "EfficientNetB5": 456, "EfficientNetB6": 528, "EfficientNetB7": 600, "EfficientNetV2B1": 240,
                "EfficientNetV2B2": 260, "EfficientNetV2B3": 300, "EfficientNetV2S": 384, "EfficientNetV2M": 480,
                "EfficientNetV2L": 480}


def on_keras_device(factory):
    """``factory`` run inside Keras's scope of the current torch default device (``keras_on_meta`` for the meta
    device, where profiles are made)."""
    @functools.wraps(factory)
    def build(**kwargs):
        keras = import_keras()
        device = torch.get_default_device().type
        with keras_on_meta() if device == "meta" else keras.device(device):
            return factory(**kwargs)

    return build


def keras_names() -> list:
    keras = import_keras()
    return sorted(n for n in dir(keras.applications) if n[:1].isupper() and callable(getattr(keras.applications, n)))


def keras_source(name: str, kwargs: dict) -> ModelSource:
    keras = import_keras()
    names = keras_names()
    if name not in names:
        raise UnknownModelError(f"unknown Keras application {name!r}{suggest(name, names)}")
    if kwargs.get("weights") not in (None, "None"):
        raise InputError("keras: applications are built with weights=None (random weights: nothing is downloaded)")
    shape = kwargs.get("input_shape")
    if shape is None:
        side = DEFAULT_SIZE.get(name, 224)
        shape = (side, side, 3)
    try:
        shape = tuple(int(d) for d in shape)
    except (TypeError, ValueError):
        raise InputError(f"keras:{name}: input_shape must be (H, W, C), got {shape!r}") from None
    builder = getattr(keras.applications, name)
    family = builder.__module__.split(".")[-1]
    return ModelSource(name=f"keras:{name}", origin="keras", builder=on_keras_device(builder),
                       inputs=Inputs((TensorSpec((1, *shape)),)), kwargs=kwargs,
                       fixed_kwargs={"weights": None}, family=family,
                       num_classes=None if kwargs.get("include_top") is False else kwargs.get("classes", 1000),
                       build_path="meta")
