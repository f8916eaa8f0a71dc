"""Counting engines. "meta" (the default) traces ATen ops on the meta device with our formula registry
(``cnnprofile.analyzer``); "fvcore" runs fvcore's JIT-based counters on a real CPU forward pass, as an
independent second opinion (``cnnprofile.engines.fvcore_engine``). Both produce the same ``Profile`` records.

This module imports nothing heavy, so the CLI can list the engines cheaply.
"""
from __future__ import annotations

from typing import Optional

ENGINES = ("meta", "fvcore")


def profile_with(engine: str, model, input_size=None, *, batch: Optional[int] = None, dtype="float32",
                 kwargs: Optional[dict] = None):
    """``cnnprofile.profile`` with the named engine."""
    from ..errors import InputError

    if engine == "meta":
        from ..analyzer import profile

        return profile(model, input_size, batch=batch, dtype=dtype, kwargs=kwargs)
    if engine == "fvcore":
        from .fvcore_engine import profile_fvcore

        return profile_fvcore(model, input_size, batch=batch, dtype=dtype, kwargs=kwargs)
    raise InputError(f"unknown engine {engine!r}; choose one of {', '.join(ENGINES)}")
