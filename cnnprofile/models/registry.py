"""The zoo's single source of truth: every model is registered here with its metadata.

Family files decorate small builder functions with ``@register_model(...)``; the CLI, the tests and the
reports all read this registry, so a model added here is listed, profiled and checked everywhere.
"""
from __future__ import annotations

import difflib
import importlib
from dataclasses import dataclass
from typing import Callable, Optional

from torch import nn

from ..errors import UnknownModelError


@dataclass(frozen=True)
class Published:
    """A figure from the literature and where it comes from.

    ``macs_rel_tol`` is the relative tolerance the test suite allows: 1% by default, wider only where the
    source rounds (e.g. "about 1.5G"); the source string says why. ``params_include_unused`` says that the
    published count includes parameters the inference forward pass never reads (an auxiliary head): it is then
    compared with the profile's counted plus unused parameters.
    """

    params: Optional[int] = None
    params_rel_tol: float = 0.0
    params_include_unused: bool = False
    macs: Optional[float] = None
    macs_rel_tol: float = 0.01
    source: str = ""
    # Where the source counts operations, 2 per multiply-add (darknet, the YOLO papers): its figure as written;
    # ``macs`` is then half of it.
    operations: Optional[float] = None

    def __post_init__(self):
        if self.operations is not None and self.macs is None:
            object.__setattr__(self, "macs", self.operations / 2)


@dataclass(frozen=True)
class ModelSpec:
    name: str
    family: str
    builder: Callable[..., nn.Module]
    paper: str
    input_size: tuple  # (C, H, W), the paper's native resolution
    num_classes: int
    published: Published
    description: str = ""
    task: str = "classification"
    # The per-sample shape of the main output where it is not (num_classes,), e.g. a detector's grid (C, H, W),
    # and what the numbers of one grid cell are (``output_note``: "5 anchors x (4 coordinates + 1 objectness +
    # 20 classes)").
    output_size: Optional[tuple] = None
    output_note: str = ""

    def build(self, **kwargs) -> nn.Module:
        return self.builder(**kwargs)


_REGISTRY: dict[str, ModelSpec] = {}
# Importing a family file registers its models; listed here so the registry is complete after one call.
FAMILIES = ("lenet", "alexnet", "nin", "vgg", "googlenet", "inception_v3", "inception_v4", "resnet", "xception",
            "senet", "localization", "darknet", "yolo")
_loaded = False


def _load_families() -> None:
    global _loaded
    if not _loaded:
        for family in FAMILIES:
            importlib.import_module(f"{__package__}.{family}")
        _loaded = True


def register_model(*, family: str, paper: str, input_size: tuple, num_classes: int = 1000,
                   published: Published = Published(), description: str = "", task: str = "classification",
                   output_size: Optional[tuple] = None, output_note: str = ""):
    """Register ``fn`` under its own name (lowercase), like timm's ``@register_model``."""

    def decorator(fn: Callable[..., nn.Module]) -> Callable[..., nn.Module]:
        name = fn.__name__.lower()
        if name in _REGISTRY:
            raise ValueError(f"model {name!r} registered twice")
        _REGISTRY[name] = ModelSpec(name=name, family=family, builder=fn, paper=paper,
                                    input_size=tuple(input_size), num_classes=num_classes,
                                    published=published, description=description or (fn.__doc__ or "").strip(),
                                    task=task, output_size=output_size, output_note=output_note)
        return fn

    return decorator


def get_model_spec(name: str) -> ModelSpec:
    _load_families()
    key = name.lower()
    if key in _REGISTRY:
        return _REGISTRY[key]
    close = difflib.get_close_matches(key, list(_REGISTRY), n=3, cutoff=0.5)
    hint = f"; did you mean {', '.join(close)}?" if close else "; run 'cnnprofile list' to see the zoo"
    raise UnknownModelError(f"unknown model {name!r}{hint}")


def list_models() -> list[ModelSpec]:
    _load_families()
    return list(_REGISTRY.values())
