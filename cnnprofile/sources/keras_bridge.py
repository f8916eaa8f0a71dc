"""Keras 3 models on the torch backend, seen as what cnnprofile measures: layers, weights, the meta device.

Measured on Keras 3.15 with torch 2.14:

- every Keras layer and model is a ``torch.nn.Module``, but a model registers its layers as no torch
  children (``named_modules()`` holds the model and its ``_torch_params`` dict only): the layers come from
  walking ``model.layers``, nested models included. Forward hooks on those layers fire as on torch modules.
- ``keras.device("meta")`` places new variables and tensors on the meta device (Keras ignores
  ``torch.device("meta")``). A variable is converted at each use to the device Keras is in, and that device
  check compares a ``torch.device`` with a string, which never match: on meta every use becomes an
  ``empty_like`` copy, which allocates what no real device would and cuts the weight off from autograd;
  outside the scope a meta model called on the CPU reads uninitialised memory without an error. So a model is
  built and run inside ``keras_on_meta()``: Keras's own scope, with a device name that compares equal to the
  meta device, so a weight on meta is used as it is, as on a real device.
- on meta, Keras's max pooling and adaptive pooling (``keras/src/backend/torch/nn.py``) replace their input
  by ``torch.empty`` of its shape *on the CPU*, pool that for real and move the result to meta: an allocation
  of the whole input in host memory (gigabytes at a large batch), uninitialised values, and no gradient to
  anything before the pooling. Torch's pooling ops have meta kernels, so for the duration of the scope those
  functions are told a device that is not "meta" (``nn.py``'s ``get_device``, restored afterwards) and pool
  the meta tensor itself. Meta and CPU are never mixed (``tests/test_keras.py`` checks every op's tensors).
"""
from __future__ import annotations

import os
import sys
from contextlib import contextmanager
from typing import Iterator

from torch import nn

from ..errors import CnnprofileError, InputError


def is_keras(obj) -> bool:
    """Whether ``obj`` is a Keras layer or model, without importing Keras."""
    return any(cls.__module__.split(".")[0] == "keras" for cls in type(obj).__mro__)


def keras_layers(model, prefix: str = "") -> Iterator[tuple]:
    """(qualified name, layer) of every layer of ``model``, depth first; a nested model's layers are named
    ``outer.inner``."""
    for layer in getattr(model, "layers", ()):
        name = f"{prefix}{layer.name}"
        yield name, layer
        if getattr(layer, "layers", None):
            yield from keras_layers(layer, name + ".")


class _Meta(str):
    """The device name "meta" that also equals the meta ``torch.device`` (see the module docstring)."""

    def __eq__(self, other):
        return str(other) == "meta"

    def __ne__(self, other):
        return str(other) != "meta"

    __hash__ = str.__hash__


class _NotMetaName(str):
    """"meta" as a device to move to, but equal to no device name: Keras's pooling takes its non-meta path."""

    def __eq__(self, other):
        return False

    def __ne__(self, other):
        return True

    __hash__ = str.__hash__


def _pooling_device():
    return _NotMetaName("meta")


@contextmanager
def keras_on_meta():
    """Keras places and runs on the meta device for the duration, using weights on meta as they are."""
    keras = import_keras()
    with keras.device("meta"):
        try:
            from keras.src.backend.common import global_state
            from keras.src.backend.torch import nn as keras_nn
        except ImportError as e:
            raise CnnprofileError(f"this Keras ({keras.__version__}) has no {e.name}, which cnnprofile needs to run "
                                  "it on the meta device; Keras 3.x (tested with 3.15) is supported") from None
        previous = global_state.get_global_attribute("torch_device", None)
        own = keras_nn.get_device
        global_state.set_global_attribute("torch_device", _Meta("meta"))
        keras_nn.get_device = _pooling_device
        try:
            yield
        finally:
            keras_nn.get_device = own
            global_state.set_global_attribute("torch_device", previous)


def import_keras():
    """Keras on the torch backend; one-line errors when it is missing or set to another backend."""
    if "keras" not in sys.modules:
        os.environ.setdefault("KERAS_BACKEND", "torch")
    try:
        import keras
    except ModuleNotFoundError as e:
        if e.name == "keras":
            raise CnnprofileError("Keras is not installed; pip install 'cnnprofile[keras]' (Keras 3, which "
                                  "cnnprofile runs on the torch backend)") from None
        raise InputError(f"Keras cannot be imported with KERAS_BACKEND={os.environ.get('KERAS_BACKEND')!r} "
                         f"(no module {e.name!r}); cnnprofile runs Keras on the torch backend: set "
                         "KERAS_BACKEND=torch") from None
    backend = keras.backend.backend()
    if backend != "torch":
        raise InputError(f"Keras runs on the {backend!r} backend here; cnnprofile counts Keras models on the torch "
                         "backend: set KERAS_BACKEND=torch before Keras is imported")
    return keras


def check_keras_dtype(model, dtype, name: str) -> None:
    """A Keras model runs in its own dtype: another one would be cast back at every layer (its dtype policy)."""
    own = {v.value.dtype for v in model.weights if v.value.is_floating_point()}
    if own and own != {dtype}:
        shown = ", ".join(sorted(str(d).replace("torch.", "") for d in own))
        raise InputError(f"{name}: a Keras model is profiled in its own dtype ({shown}); set its dtype policy in "
                         "Keras (keras.config.set_dtype_policy) instead of --dtype")


def weight_name(variable) -> str:
    """A Keras variable's name as a torch attribute: its path (``block1_conv1/kernel``), without dots."""
    return variable.path.replace(".", "_")


class KerasAsTorch(nn.Module):
    """A torch module over a Keras model, for steps that swap a module's parameters (the memory step).

    Its parameters are the Keras model's weights themselves (same tensors, named by their Keras paths,
    ``requires_grad`` as Keras sets it from ``layer.trainable``), except the weights a layer creates
    non-trainable (batch norm's moving statistics), which are buffers, as in PyTorch, since no
    ``layer.trainable`` makes them trainable (``statistics_as_buffers=False`` keeps them parameters, as Keras
    counts its weights); its forward hands whatever tensors stand in for them to
    ``model.stateless_call``, inside ``keras_on_meta()``, with Keras's ``training`` flag from
    torch's. Its modules are the Keras layers under their qualified names (so hooks name the rows), which are
    not made its children: the Keras model is not changed.
    """

    def __init__(self, model, statistics_as_buffers: bool = True):
        super().__init__()
        object.__setattr__(self, "keras_model", model)  # not a child: its torch parameters are not ours
        self._names = {}
        state = {id(v) for _, layer in keras_layers(model) for v in getattr(layer, "_non_trainable_variables", ())}
        for variable in model.weights:
            if id(variable) not in self._names and not (statistics_as_buffers and id(variable) in state):
                self._names[id(variable)] = weight_name(variable)
                self.register_parameter(self._names[id(variable)], variable.value)
        for variable in (*model.weights, *model.trainable_variables, *model.non_trainable_variables):
            if id(variable) not in self._names:  # created non-trainable (moving statistics), or no weight (seeds)
                self._names[id(variable)] = weight_name(variable)
                self.register_buffer(self._names[id(variable)], variable.value.detach())

    def named_modules(self, memo=None, prefix: str = "", remove_duplicate: bool = True):
        yield prefix, self
        seen = set()
        for name, layer in keras_layers(self.keras_model):
            if remove_duplicate and id(layer) in seen:
                continue
            seen.add(id(layer))
            yield f"{prefix}.{name}" if prefix else name, layer

    def forward(self, *args, **kwargs):
        model = self.keras_model
        trainable = [getattr(self, self._names[id(v)]) for v in model.trainable_variables]
        frozen = [getattr(self, self._names[id(v)]) for v in model.non_trainable_variables]
        with keras_on_meta():
            out, _ = model.stateless_call(trainable, frozen, *args, training=self.training, **kwargs)
        return out
