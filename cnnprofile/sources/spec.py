"""The spec grammar: which origin a model name belongs to, and glob expansion.

- ``vgg16``: the zoo (``cnnprofile list``);
- ``torchvision:NAME``: any model of ``torchvision.models.list_models()`` (classification, segmentation,
  detection, video, optical flow), built with ``weights=None``;
- ``timm:NAME``: a timm model (``pretrained=False``), when timm is installed;
- ``keras:NAME``: a ``keras.applications`` model (``weights=None``) on Keras's torch backend, when Keras is
  installed (``sources.keras_apps``);
- ``path/to/model.onnx``: an ONNX file (``sources.onnx_file``);
- ``path/to/file.py:factory`` or ``package.module:factory``: any callable returning an ``nn.Module`` (a
  ``keras.Model`` included).
Globs (``torchvision:resnet*``, ``vgg*``) select many.
"""
from __future__ import annotations

import difflib
import os
from dataclasses import dataclass
from typing import Iterable, Literal

from ..errors import InputError

GLOB = set("*?[")


@dataclass(frozen=True)
class Spec:
    scheme: Literal["zoo", "torchvision", "timm", "keras", "onnx", "file", "module"]
    target: str  # the model's name, or the file/module
    factory: str = ""  # for files and modules

    @property
    def is_glob(self) -> bool:
        return bool(GLOB & set(self.target))


def parse_spec(spec: str) -> Spec:
    if not isinstance(spec, str) or not spec.strip():
        raise InputError(f"expected a model name, got {spec!r}")
    if spec.lower().endswith(".onnx"):
        return Spec("onnx", spec)
    scheme, sep, rest = spec.partition(":")
    if not sep:
        return Spec("zoo", spec)
    if scheme in ("torchvision", "timm", "keras"):
        return Spec(scheme, rest)
    target, _, factory = spec.rpartition(":")
    if not target or not factory:
        raise InputError(f"malformed model spec {spec!r}; expected FILE.py:FACTORY or package.module:FACTORY")
    is_file = target.endswith(".py") or "/" in target or os.sep in target
    return Spec("file" if is_file else "module", target, factory)


def suggest(name: str, names: Iterable[str]) -> str:
    close = difflib.get_close_matches(name, list(names), n=3, cutoff=0.6)
    return f"; did you mean {', '.join(close)}?" if close else ""
