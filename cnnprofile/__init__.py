"""cnnprofile: the truth about CNN architectures (shapes, parameters, memory, MACs/FLOPs)."""
from .analyses import memory
from .analyzer import profile
from .errors import CnnprofileError
from .analyses.formulas import Cost, register_formula
from .sources.deploy import deployed
from .sources.fcn import fully_convolutional
from .models import get_model_spec, list_models
from .records import CallRecord, Conventions, LayerRecord, Profile, Totals, UncountedOp

__version__ = "0.1.0"
__all__ = ["profile", "memory", "deployed", "fully_convolutional", "register_formula", "Cost", "CnnprofileError",
           "get_model_spec", "list_models", "CallRecord", "Conventions", "LayerRecord", "Profile", "Totals",
           "UncountedOp"]
