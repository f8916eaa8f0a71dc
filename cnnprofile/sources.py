"""Where models come from: a name on the command line or in ``profile()`` resolves to a ModelSource."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Optional

from torch import nn

from .models import get_model_spec


@dataclass(frozen=True)
class ModelSource:
    name: str
    build: Callable[[], nn.Module]  # builds the model; called under ``torch.device("meta")``
    input_size: tuple  # (C, H, W) the model expects natively
    origin: str  # "zoo", "torchvision", "timm", "file"
    num_classes: Optional[int] = None
    meta: dict = field(default_factory=dict, compare=False, hash=False)


def resolve_model(spec: str) -> ModelSource:
    """Resolve one model name. Raises UnknownModelError (one line, with suggestions) if it cannot."""
    zoo = get_model_spec(spec)
    return ModelSource(name=zoo.name, build=zoo.build, input_size=zoo.input_size, origin="zoo",
                       num_classes=zoo.num_classes, meta={"family": zoo.family, "paper": zoo.paper})
