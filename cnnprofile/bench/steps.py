"""The step a cell times: one forward pass of the batch, or one full training step.

A training step is what ``cnnprofile.memory(..., train=True)`` predicts: forward and loss (under autocast when
asked; backward runs outside it, as torch recommends), backward, the optimizer's step and
``zero_grad(set_to_none=True)``. The loss is cross-entropy against integer targets for (N, classes) logits, else
the output's sum; the targets are class 0 for every image, which is valid for any number of classes and costs
exactly what random labels cost.
"""
from __future__ import annotations

import contextlib
from typing import Callable, Optional


def make_optimizer(name: Optional[str], model, device: str):
    """A torch optimizer over the model's parameters that require grad, on the path the memory predictor models
    for ``device`` (multi-tensor on CUDA, single-tensor on a CPU); None for ``none``."""
    from ..analyses.memory.optimizers import make_optimizer as build
    from ..analyses.memory.targets import get_target

    return build(name or "none", [p for p in model.parameters() if p.requires_grad], get_target(device))


def training_step(model, forward: Callable, x, optimizer, autocast: Callable[[], object]) -> Callable[[], None]:
    """One training step of ``forward`` (the model or its compiled form) on ``x``, as a closure to time.

    ``autocast()`` returns the context the forward pass and the loss run in (a null context without autocast).
    """
    import torch

    from ..analyses.memory.step import loss_of

    labels = torch.zeros(x.shape[0], dtype=torch.long, device=x.device)

    def step() -> None:
        with autocast():
            loss = loss_of(forward(x), labels)
        loss.backward()
        if optimizer is not None:
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
        else:
            model.zero_grad(set_to_none=True)

    return step


def autocast_factory(enabled: bool, device: str, dtype) -> Callable[[], object]:
    import torch

    if not enabled:
        return contextlib.nullcontext
    return lambda: torch.autocast(device_type=device, dtype=dtype)
