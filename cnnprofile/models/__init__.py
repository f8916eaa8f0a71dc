"""The lecture's model zoo, one family per file (``FAMILIES``), registered in ``registry``."""
from .registry import FAMILIES, ModelSpec, Published, get_model_spec, list_models, register_model

__all__ = ["ModelSpec", "Published", "get_model_spec", "list_models", "register_model", "FAMILIES"]
