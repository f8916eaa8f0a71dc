"""Counting engines, behind one interface (``engines.base.Engine``) and producing the same ``Profile`` records.

``ENGINES`` is the single source of truth for the engines there are (the CLI's ``--engine`` choices, the
tests parametrized over every engine): name -> (module defining ``ENGINE``, one line for the help). Engines
are imported on first use, so listing them imports nothing heavy.
"""
from __future__ import annotations

import importlib

ENGINES: dict[str, tuple] = {
    "meta": ("cnnprofile.engines.meta", "our formulas over the ATen ops of a forward pass on the meta device; "
                                        "no weights or activations are allocated"),
    "real": ("cnnprofile.engines.real", "the same formulas on a real CPU forward pass with random weights; the "
                                        "default for models whose shapes depend on the data (detection)"),
    "fvcore": ("cnnprofile.engines.fvcore_engine", "fvcore's counters on a real CPU forward pass, as an "
                                                   "independent check"),
}


def get_engine(name: str):
    """The registered engine called ``name``."""
    if name not in ENGINES:
        from ..errors import InputError

        raise InputError(f"unknown engine {name!r}; choose one of {', '.join(ENGINES)}")
    return importlib.import_module(ENGINES[name][0]).ENGINE
