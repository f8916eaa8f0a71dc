"""The optimizers a training step can use, built as torch builds them for the target device."""
from __future__ import annotations

import torch

from ...errors import InputError

# name -> (torch.optim class, keyword arguments); learning rates are irrelevant to memory and cost.
OPTIMIZERS = {
    "none": None,
    "sgd": (torch.optim.SGD, {"lr": 0.01}),
    "sgd-momentum": (torch.optim.SGD, {"lr": 0.01, "momentum": 0.9}),
    "adam": (torch.optim.Adam, {"lr": 1e-3}),
    "adamw": (torch.optim.AdamW, {"lr": 1e-3}),
}
# The state each keeps per trainable parameter, in parameter-sized tensors (for the definitions text).
STATE_PER_PARAM = {"none": 0, "sgd": 0, "sgd-momentum": 1, "adam": 2, "adamw": 2}


def check_optimizer(name: str) -> str:
    key = (name or "").lower()
    if key not in OPTIMIZERS:
        raise InputError(f"unknown optimizer {name!r}; choose one of {', '.join(OPTIMIZERS)}")
    return key


def make_optimizer(name: str, params: list, target):
    """A real ``torch.optim`` optimizer over ``params`` (meta tensors), or None for ``none``/no parameters."""
    entry = OPTIMIZERS[check_optimizer(name)]
    if entry is None or not params:
        return None
    cls, kwargs = entry
    return cls(params, foreach=target.foreach, **kwargs)
