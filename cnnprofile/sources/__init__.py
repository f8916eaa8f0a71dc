"""Where models come from: a name on the command line or in ``profile()`` resolves to a ``ModelSource``.

The grammar is in ``spec``; each origin has its module (``zoo``, ``torchvision``, ``timm``, ``keras_apps``,
``onnx_file``, ``user``).
``kwargs`` (``--kwargs '{"num_classes": 10}'``) are passed to whatever builds the model. Globs
(``torchvision:resnet*``, ``vgg*``) are expanded by ``resolve_models``.
"""
from __future__ import annotations

import contextvars
import fnmatch
from contextlib import contextmanager
from dataclasses import replace
from typing import Iterable, Optional

from torch import nn

from ..errors import CnnprofileError, InputError, UnknownModelError
from ..inputs import Inputs, resolve_inputs
from .base import ModelSource, PublishedFigures
from .spec import parse_spec
from .torchvision import torchvision_names


# Set for one command (``--fully-conv``, ``--reparam``): functions every resolved source goes through, e.g. to
# convert the model.
_TRANSFORMS = contextvars.ContextVar("cnnprofile_source_transforms", default=())


@contextmanager
def transformed_sources(transform):
    """Within this context ``resolve_model`` returns ``transform(source)`` (``fcn.fully_convolutional_models``).
    Contexts nest; their transforms are applied by their ``order`` attribute (0 if none), lowest first, whatever
    the order of the options that set them (the deployed form before the fully convolutional conversion)."""
    token = _TRANSFORMS.set(_TRANSFORMS.get() + (transform,))
    try:
        yield
    finally:
        _TRANSFORMS.reset(token)


def resolve_model(spec: str, kwargs: Optional[dict] = None) -> ModelSource:
    """Resolve one model spec. Raises a one-line CnnprofileError (with suggestions) if it cannot."""
    parsed = parse_spec(spec)
    kwargs = dict(kwargs or {})
    if parsed.scheme == "torchvision":
        from .torchvision import torchvision_source

        source = torchvision_source(parsed.target, kwargs)
    elif parsed.scheme == "timm":
        from .timm import timm_source

        source = timm_source(parsed.target, kwargs)
    elif parsed.scheme == "keras":
        from .keras_apps import keras_source

        source = keras_source(parsed.target, kwargs)
    elif parsed.scheme == "onnx":
        from .onnx_file import onnx_source

        source = onnx_source(parsed.target, kwargs)
    elif parsed.scheme in ("file", "module"):
        from .user import user_source

        source = user_source(spec, parsed.target, parsed.factory, parsed.scheme == "file", kwargs)
    else:
        from .zoo import zoo_source

        source = zoo_source(parsed.target, kwargs)
    source = replace(source, spec=spec)
    for transform in sorted(_TRANSFORMS.get(), key=lambda t: getattr(t, "order", 0)):
        source = transform(source)
    return source


def _expand(spec: str) -> list:
    parsed = parse_spec(spec)
    if parsed.scheme == "torchvision":
        from .torchvision import torchvision_glob

        return [f"torchvision:{n}" for n in torchvision_glob(parsed.target)]
    if parsed.scheme == "timm":
        from .timm import timm_names

        return [f"timm:{n}" for n in timm_names(parsed.target)]
    if parsed.scheme == "keras":
        from .keras_apps import keras_names

        return [f"keras:{n}" for n in fnmatch.filter(keras_names(), parsed.target)]
    if parsed.scheme != "zoo":
        raise InputError(f"globs are not supported in file or module specs: {spec!r}")
    from ..models import list_models

    return fnmatch.filter([m.name for m in list_models()], spec.lower())


def resolve_models(specs: Iterable[str], kwargs: Optional[dict] = None) -> list:
    """Resolve several specs, expanding globs (``torchvision:*``, ``torchvision:resnet*``, ``vgg*``)."""
    out = []
    for spec in specs:
        if parse_spec(spec).is_glob:
            names = _expand(spec)
            if not names:
                raise UnknownModelError(f"no model matches {spec!r}")
            out += [resolve_model(n, kwargs) for n in names]
        else:
            out.append(resolve_model(spec, kwargs))
    return out


def unwrap(module: nn.Module) -> nn.Module:
    """The module a wrapper runs: ``torch.compile``'s ``_orig_mod``, ``DataParallel``'s ``.module``.

    Counting the compiled graph would count what the compiler fused, not the network; the wrapped module is
    the same network and is profiled as it is (never changed).
    """
    seen = set()
    while id(module) not in seen:
        seen.add(id(module))
        if hasattr(module, "_orig_mod") and isinstance(module._orig_mod, nn.Module):
            module = module._orig_mod
        elif isinstance(module, (nn.DataParallel, nn.parallel.DistributedDataParallel)):
            module = module.module
    return module


def module_and_inputs(model, inputs=None, batch: Optional[int] = None, kwargs: Optional[dict] = None,
                      device: str = "meta") -> tuple:
    """(module, Inputs, name, source or None) for a spec string, a resolved ``ModelSource`` or an ``nn.Module``.

    Specs and sources are built on ``device``; a user's module is used as it is (unwrapped from
    ``torch.compile``/``DataParallel``) and needs ``inputs``, taken as written.
    """
    if isinstance(model, str):
        model = resolve_model(model, kwargs)
    if isinstance(model, ModelSource):
        if inputs is None and model.inputs is None:
            raise InputError(f"{model.name} does not declare its input size; pass --input SHAPE "
                             "(input_size= in Python) or define input_size = (C, H, W) in its module")
        resolved = resolve_inputs(model.inputs, inputs, batch)
        return model.build(device), resolved, model.name, model
    if not isinstance(model, nn.Module):
        raise CnnprofileError(f"expected a model name or an nn.Module, got {type(model).__name__}")
    if inputs is None:
        raise CnnprofileError("input_size is required when profiling an nn.Module")
    return unwrap(model), resolve_inputs(None, inputs, batch), None, None


def module_and_shape(model, input_size=None, batch: Optional[int] = None, kwargs: Optional[dict] = None,
                     device: str = "meta") -> tuple:
    """(module, main input shape, name): ``module_and_inputs`` for callers that take one input."""
    module, inputs, name, _ = module_and_inputs(model, input_size, batch, kwargs, device)
    return module, inputs.main.shape, name


def input_shape_for(source: ModelSource, input_size=None, batch: Optional[int] = None) -> tuple:
    """The main input shape to profile ``source`` at."""
    return resolve_inputs(source.inputs, input_size, batch).main.shape


__all__ = ["ModelSource", "PublishedFigures", "Inputs", "resolve_model", "resolve_models", "module_and_inputs",
           "transformed_sources",
           "module_and_shape", "input_shape_for", "unwrap", "torchvision_names"]
