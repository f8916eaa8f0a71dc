"""Receptive fields along the recorded ops (``fields``: propagation and records; ``field``: the field algebra;
``rules``/``layout``: one rule per op)."""
from .fields import CONVENTION, RULES, ReceptiveField, ReceptiveFieldProfile, last_feature_map_of, propagate, \
    receptive_fields, receptive_fields_of

__all__ = ["CONVENTION", "RULES", "ReceptiveField", "ReceptiveFieldProfile", "last_feature_map_of", "propagate",
           "receptive_fields", "receptive_fields_of"]
