"""A calibration moved to another device by a few measurements on it, the same way for the library's
``calibrate --base`` and for the benchmark that proves it.

A measured row mixes two things: what the time model gets wrong about that network (its misfit, the same on
any device to first order: an unfused kernel the model did not expect, a layer cuDNN runs badly) and what the
new device changes. A calibration records the misfit of every model it was fitted on, so a few-shot fit takes
it off the rows of models the base measured and fits only the device's part (``fit.refit_scales``).
"""
from __future__ import annotations

import numpy as np

from .calibration import Calibration
from .fit import errors, refit_scales


def model_key(model: str, input_shape: tuple) -> str:
    """How a calibration names a fitted model: ``timm:resnet50@3x224x224``."""
    return f"{model}@{'x'.join(str(d) for d in input_shape)}"


def misfit_of(samples: list, keys: list, params: dict) -> dict:
    """key -> log(predicted / measured) under ``params``, the median over a key's rows (4 decimals)."""
    logs = np.log1p(errors(samples, params)) if samples else []
    by_key: dict = {}
    for k, v in zip(keys, logs):
        by_key.setdefault(k, []).append(float(v))
    return {k: round(float(np.median(v)), 4) for k, v in sorted(by_key.items())}


def few_shot(samples: list, keys: list, base: Calibration) -> dict:
    """``base``'s parameters refitted to ``samples`` (named by ``keys``) on another device: each row less the
    misfit ``base`` measured for that model (none for a model it never ran), with the base's own median
    |error| as the spread of a row."""
    offsets = [base.misfit.get(k, 0.0) for k in keys]
    return refit_scales(samples, base.params, row_error=base.fit_median_error, offsets=offsets)


__all__ = ["few_shot", "misfit_of", "model_key"]
