"""The user's own models: ``path/to/file.py:factory`` or ``package.module:factory``.

The input comes from ``--input``, or else from an ``input_size`` attribute of the factory, or else from a
module-level ``INPUT_SIZE`` or ``input_size``: one shape without the batch, e.g. (C, H, W) or (C, L), or a
tuple of such shapes for a model taking several inputs. The current directory is importable.

A factory may return a ``keras.Model`` (Keras 3): ``KERAS_BACKEND`` is set to ``torch`` before the file is
imported unless it is set already, and a file that imports Keras has its factory run inside Keras's meta
device scope (``sources.keras_apps``); its input is channels-last, e.g. ``INPUT_SIZE = (224, 224, 3)``.
"""
from __future__ import annotations

import importlib
import importlib.util
import os
import sys
import types
from typing import Optional

from ..errors import CnnprofileError, InputError, first_line
from ..inputs import Inputs, TensorSpec, check_shape
from .base import ModelSource


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
        raise CnnprofileError(f"cannot import {path}: {first_line(e, with_type=True)}") from e
    return module


def _load_module(name: str):
    cwd = os.getcwd()
    added = cwd not in sys.path
    if added:  # `python -m` would find a package in the current directory; so do we
        sys.path.insert(0, cwd)
    try:
        return importlib.import_module(name)
    except Exception as e:
        raise CnnprofileError(f"cannot import module {name!r}: {first_line(e, with_type=True)}") from e
    finally:
        if added:
            sys.path.remove(cwd)


def _declared(spec: str, factory, module) -> Optional[Inputs]:
    for value in (getattr(factory, "input_size", None), getattr(module, "INPUT_SIZE", None),
                  getattr(module, "input_size", None)):
        if value is None or callable(value):
            continue
        try:
            shapes = [value] if all(isinstance(d, int) for d in value) else list(value)
            return Inputs(tuple(TensorSpec((1, *check_shape(tuple(int(d) for d in s)))) for s in shapes))
        except (TypeError, ValueError, CnnprofileError):
            raise InputError(f"{spec}: input_size must be a shape without the batch, e.g. (C, H, W), "
                             f"or a tuple of such shapes; got {value!r}") from None
    return None


def _uses_keras(module) -> bool:
    """Whether the user's module imports Keras (``import keras``, ``from keras import layers``, ...)."""
    for value in vars(module).values():
        name = getattr(value, "__name__", "") if isinstance(value, types.ModuleType) else \
            getattr(value, "__module__", "") or ""
        if isinstance(name, str) and name.split(".")[0] == "keras":
            return True
    return False


def user_source(spec: str, target: str, factory_name: str, is_file: bool, kwargs: dict) -> ModelSource:
    if "keras" not in sys.modules:  # a file importing Keras gets the torch backend unless it says otherwise
        os.environ.setdefault("KERAS_BACKEND", "torch")
    module = _load_file(target) if is_file else _load_module(target)
    factory = getattr(module, factory_name, None)
    if factory is None or not callable(factory):
        found = sorted(n for n, v in vars(module).items() if callable(v) and not n.startswith("_")
                       and getattr(v, "__module__", None) == module.__name__)
        what = "no callable" if factory is None else "a non-callable"
        raise InputError(f"{target} has {what} {factory_name!r}" + (f"; it defines {', '.join(found)}" if found
                                                                    else ""))
    name = f"{os.path.basename(target) if is_file else target}:{factory_name}"
    if _uses_keras(module):  # Keras builds on meta only inside its own device scope (sources.keras_apps)
        from .keras_bridge import import_keras
        from .keras_apps import on_keras_device

        import_keras()
        return ModelSource(name=name, origin="file" if is_file else "module", builder=on_keras_device(factory),
                           inputs=_declared(spec, factory, module), kwargs=kwargs, task="other",
                           num_classes=kwargs.get("num_classes"), build_path="meta", spec=spec)
    # A user's constructor may compute with tensors: the registration path runs it on the CPU and still
    # allocates no weights.
    return ModelSource(name=name, origin="file" if is_file else "module", builder=factory,
                       inputs=_declared(spec, factory, module), kwargs=kwargs, task="other",
                       num_classes=kwargs.get("num_classes"), build_path="registration", spec=spec)
