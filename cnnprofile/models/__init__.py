"""The lecture's model zoo, one family per file."""
import importlib

from .registry import ModelSpec, Published, get_model_spec, list_models, register_model

# Importing a family file registers its models; listed here so the registry is complete after one call.
FAMILIES = ("lenet", "alexnet", "nin", "vgg", "googlenet", "inception_v3", "inception_v4", "resnet", "xception",
            "senet")

_loaded = False


def _load_families() -> None:
    global _loaded
    if not _loaded:
        for family in FAMILIES:
            importlib.import_module(f"{__name__}.{family}")
        _loaded = True


__all__ = ["ModelSpec", "Published", "get_model_spec", "list_models", "register_model", "FAMILIES"]
