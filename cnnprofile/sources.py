"""Where models come from: a name on the command line or in ``profile()`` resolves to a ModelSource.

Accepted specs:

- ``vgg16``: the zoo (``cnnprofile list``);
- ``torchvision:resnet50``: a torchvision classification model, built with ``weights=None`` (nothing is
  downloaded); its native input size and published figures come from its default weights' metadata;
- ``timm:convnext_tiny``: a timm model (``pretrained=False``), when timm is installed;
- ``path/to/file.py:factory`` or ``package.module:factory``: any callable returning an ``nn.Module``.
  The input size comes from ``--input``, or else from an ``input_size`` attribute of the factory, or else from
  a module-level ``INPUT_SIZE`` or ``input_size`` = (C, H, W). The current directory is importable.

``kwargs`` (``--kwargs '{"num_classes": 10}'``) are passed to whatever builds the model. Globs
(``torchvision:resnet*``, ``vgg*``) are expanded by ``resolve_models``.
"""
from __future__ import annotations

import difflib
import fnmatch
import importlib
import importlib.util
import os
import sys
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Callable, Iterable, Optional

import torch
from torch import nn

from .errors import CnnprofileError, InputError, UnknownModelError
from .inputs import check_shape, resolve_input_shape
from .models import get_model_spec, list_models

_GLOB = set("*?[")
# Torchvision builds these two differently when weights are given; we build them the same way so that the
# profile describes the published network (GoogLeNet without its auxiliary classifiers, inputs rescaled).
_AS_PUBLISHED = {"googlenet": {"aux_logits": False, "transform_input": True, "init_weights": False},
                 "inception_v3": {"aux_logits": True, "transform_input": True, "init_weights": False}}


@dataclass(frozen=True)
class ModelSource:
    name: str
    build: Callable[[], nn.Module]  # builds the model; called under ``torch.device("meta")``
    input_size: Optional[tuple]  # (C, H, W) the model expects natively; None when unknown (files)
    origin: str  # "zoo", "torchvision", "timm", "file", "module"
    num_classes: Optional[int] = None
    meta: dict = field(default_factory=dict, compare=False, hash=False)


def _first_line(error: BaseException) -> str:
    lines = str(error).strip().splitlines()
    return f"{type(error).__name__}: {lines[0]}" if lines else type(error).__name__


@contextmanager
def _parameters_on_meta():
    """Build on the CPU but move each parameter and buffer to the meta device as it is registered.

    For models whose constructors compute with tensors (RegNet derives its widths with ``torch.round(...)
    .tolist()``), which cannot run under ``torch.device("meta")``: at most one layer's weights exist at a time.
    """
    from torch.nn.modules.module import (register_module_buffer_registration_hook,
                                         register_module_parameter_registration_hook)

    def parameter(module, name, param):
        return None if param is None else nn.Parameter(param.to("meta"), requires_grad=param.requires_grad)

    def buffer(module, name, tensor):
        return None if tensor is None else tensor.to("meta")

    handles = [register_module_parameter_registration_hook(parameter), register_module_buffer_registration_hook(buffer)]
    try:
        with torch.device("cpu"):
            yield
    finally:
        for handle in handles:
            handle.remove()


def _on_meta() -> bool:
    return torch.empty(()).device.type == "meta"


def _checked(spec: str, fn: Callable, kwargs: dict) -> Callable[[], nn.Module]:
    """``fn(**kwargs)`` as a builder whose failures are one-line user errors."""
    def build() -> nn.Module:
        try:
            try:
                obj = fn(**kwargs)
            except (NotImplementedError, RuntimeError) as e:
                if not (_on_meta() and "meta" in str(e)):
                    raise
                with _parameters_on_meta():
                    obj = fn(**kwargs)
        except CnnprofileError:
            raise
        except Exception as e:  # the user's code: any exception is theirs to read, in one line
            raise CnnprofileError(f"building {spec} failed: {_first_line(e)}") from e
        if not isinstance(obj, nn.Module):
            raise CnnprofileError(f"{spec} returned {type(obj).__name__}, not a torch.nn.Module")
        return obj

    return build


def _suggest(name: str, names: Iterable[str]) -> str:
    close = difflib.get_close_matches(name, list(names), n=3, cutoff=0.6)
    return f"; did you mean {', '.join(close)}?" if close else ""


# --- the zoo -------------------------------------------------------------------------------------------------

def _zoo(spec: str, kwargs: dict) -> ModelSource:
    zoo = get_model_spec(spec)
    return ModelSource(name=zoo.name, build=_checked(zoo.name, zoo.build, kwargs), input_size=zoo.input_size,
                       origin="zoo", num_classes=kwargs.get("num_classes", zoo.num_classes),
                       meta={"family": zoo.family, "paper": zoo.paper, "kwargs": kwargs})


# --- torchvision -----------------------------------------------------------------------------------------------

def torchvision_names() -> list:
    """Torchvision's classification models (the ``torchvision.models`` namespace, not detection etc.)."""
    from torchvision import models

    return sorted(models.list_models(module=models))


def _torchvision(name: str, kwargs: dict) -> ModelSource:
    from torchvision import models

    names = torchvision_names()
    if name not in names:
        if name in models.list_models():
            raise UnknownModelError(f"torchvision model {name!r} is not a classification model; "
                                    "only torchvision.models classifiers are supported")
        raise UnknownModelError(f"unknown torchvision model {name!r}{_suggest(name, names)}")
    weights = models.get_model_weights(name).DEFAULT
    crop = weights.transforms().crop_size
    size = int(crop[0] if isinstance(crop, (list, tuple)) else crop)
    metrics = weights.meta.get("_metrics", {}).get("ImageNet-1K", {})
    meta = {"weights": f"{type(weights).__name__}.{weights.name}", "num_params": weights.meta.get("num_params"),
            "_ops": weights.meta.get("_ops"), "acc@1": metrics.get("acc@1"), "acc@5": metrics.get("acc@5"),
            "kwargs": kwargs}
    builder = models.get_model_builder(name)
    args = {"weights": None, **_AS_PUBLISHED.get(name, {}), **kwargs}
    if name.startswith("vit_") and "image_size" not in kwargs:  # ViT's size is part of the architecture
        args["image_size"] = weights.meta["min_size"][0]
    return ModelSource(name=f"torchvision:{name}", build=_checked(f"torchvision:{name}", builder, args),
                       input_size=(3, size, size), origin="torchvision",
                       num_classes=kwargs.get("num_classes", len(weights.meta.get("categories", ())) or None),
                       meta=meta)


# --- timm -------------------------------------------------------------------------------------------------------

def _import_timm():
    try:
        import timm
    except ImportError:
        raise CnnprofileError("timm is not installed; pip install timm") from None
    return timm


def _timm(name: str, kwargs: dict) -> ModelSource:
    timm = _import_timm()
    if not timm.is_model(name):
        raise UnknownModelError(f"unknown timm model {name!r}{_suggest(name, timm.list_models())}")
    cfg = timm.models.get_pretrained_cfg(name)
    size = tuple(cfg.input_size) if cfg is not None and cfg.input_size else (3, 224, 224)
    build = _checked(f"timm:{name}", timm.create_model, {"model_name": name, "pretrained": False, **kwargs})
    return ModelSource(name=f"timm:{name}", build=build, input_size=size, origin="timm",
                       num_classes=kwargs.get("num_classes", getattr(cfg, "num_classes", None)),
                       meta={"kwargs": kwargs})


# --- the user's own files and modules ----------------------------------------------------------------------

def _load_file(path: str):
    if not os.path.isfile(path):
        raise InputError(f"no such file: {path}")
    mod_name = "cnnprofile_user_" + "".join(c if c.isalnum() else "_" for c in os.path.abspath(path))
    spec = importlib.util.spec_from_file_location(mod_name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[mod_name] = module  # dataclasses and pickling look their module up here
    try:
        spec.loader.exec_module(module)
    except Exception as e:
        sys.modules.pop(mod_name, None)
        raise CnnprofileError(f"cannot import {path}: {_first_line(e)}") from e
    return module


def _load_module(name: str):
    cwd = os.getcwd()
    added = cwd not in sys.path
    if added:  # `python -m` would find a package in the current directory; so do we
        sys.path.insert(0, cwd)
    try:
        return importlib.import_module(name)
    except Exception as e:
        raise CnnprofileError(f"cannot import module {name!r}: {_first_line(e)}") from e
    finally:
        if added:
            sys.path.remove(cwd)


def _declared_size(spec: str, factory, module) -> Optional[tuple]:
    for value in (getattr(factory, "input_size", None), getattr(module, "INPUT_SIZE", None),
                  getattr(module, "input_size", None)):
        if value is None or callable(value):
            continue
        try:
            return check_shape(tuple(int(d) for d in value))[1:]
        except (TypeError, ValueError, CnnprofileError):
            raise InputError(f"{spec}: input_size must be (C, H, W), got {value!r}") from None
    return None


def _user(spec: str, target: str, factory_name: str, kwargs: dict) -> ModelSource:
    is_file = target.endswith(".py") or "/" in target or os.sep in target
    module = _load_file(target) if is_file else _load_module(target)
    factory = getattr(module, factory_name, None)
    if factory is None or not callable(factory):
        found = sorted(n for n, v in vars(module).items() if callable(v) and not n.startswith("_")
                       and getattr(v, "__module__", None) == module.__name__)
        what = "no callable" if factory is None else "a non-callable"
        raise InputError(f"{target} has {what} {factory_name!r}" + (f"; it defines {', '.join(found)}" if found
                                                                    else ""))
    name = f"{os.path.basename(target) if is_file else target}:{factory_name}"
    return ModelSource(name=name, build=_checked(spec, factory, kwargs),
                       input_size=_declared_size(spec, factory, module), origin="file" if is_file else "module",
                       num_classes=kwargs.get("num_classes"), meta={"kwargs": kwargs})


# --- entry points -------------------------------------------------------------------------------------------

def resolve_model(spec: str, kwargs: Optional[dict] = None) -> ModelSource:
    """Resolve one model spec. Raises a one-line CnnprofileError (with suggestions) if it cannot."""
    if not isinstance(spec, str) or not spec.strip():
        raise InputError(f"expected a model name, got {spec!r}")
    source = _resolve(spec, dict(kwargs or {}))
    return replace(source, meta={**source.meta, "spec": spec})  # what resolves to it again


def _resolve(spec: str, kwargs: dict) -> ModelSource:
    scheme, sep, rest = spec.partition(":")
    if sep and scheme == "torchvision":
        return _torchvision(rest, kwargs)
    if sep and scheme == "timm":
        return _timm(rest, kwargs)
    if sep:
        target, _, factory = spec.rpartition(":")
        if not target or not factory:
            raise InputError(f"malformed model spec {spec!r}; expected FILE.py:FACTORY or package.module:FACTORY")
        return _user(spec, target, factory, kwargs)
    return _zoo(spec, kwargs)


def _expand(spec: str) -> list:
    scheme, sep, pattern = spec.partition(":")
    if sep and scheme == "torchvision":
        return [f"torchvision:{n}" for n in fnmatch.filter(torchvision_names(), pattern)]
    if sep and scheme == "timm":
        return [f"timm:{n}" for n in _import_timm().list_models(pattern)]
    if sep:
        raise InputError(f"globs are not supported in file or module specs: {spec!r}")
    return fnmatch.filter([m.name for m in list_models()], spec.lower())


def resolve_models(specs: Iterable[str], kwargs: Optional[dict] = None) -> list:
    """Resolve several specs, expanding globs (``torchvision:*``, ``torchvision:resnet*``, ``vgg*``)."""
    out = []
    for spec in specs:
        if _GLOB & set(spec):
            names = _expand(spec)
            if not names:
                raise UnknownModelError(f"no model matches {spec!r}")
            out += [resolve_model(n, kwargs) for n in names]
        else:
            out.append(resolve_model(spec, kwargs))
    return out


def input_shape_for(source: ModelSource, input_size=None, batch: Optional[int] = None) -> tuple:
    """The (N, C, H, W) to profile ``source`` at; a model with no native size needs ``input_size``."""
    if input_size is None and source.input_size is None:
        raise InputError(f"{source.name} does not declare its input size; pass --input NxCxHxW "
                         "(input_size= in Python) or define input_size = (C, H, W) in its module")
    return resolve_input_shape(source.input_size or (), input_size, batch)


def module_and_shape(model, input_size=None, batch: Optional[int] = None, kwargs: Optional[dict] = None,
                     device: str = "meta") -> tuple:
    """(module, (N, C, H, W), name) for a spec string, a resolved ``ModelSource`` or a user's ``nn.Module``.

    Specs and sources are built on ``device``; a user's module is used as it is (name None) and needs
    ``input_size``. Every engine, ``compare`` and ``report`` go through here, so they resolve alike.
    """
    if isinstance(model, str):
        model = resolve_model(model, kwargs)
    if isinstance(model, ModelSource):
        shape = input_shape_for(model, input_size, batch)
        if device == "meta":
            from .dispatch import building_on_meta

            with torch.device(device), building_on_meta():
                return model.build(), shape, model.name
        with torch.device(device):
            return model.build(), shape, model.name
    if not isinstance(model, nn.Module):
        raise CnnprofileError(f"expected a model name or an nn.Module, got {type(model).__name__}")
    if input_size is None:
        raise CnnprofileError("input_size is required when profiling an nn.Module")
    return model, resolve_input_shape((), input_size, batch), None
