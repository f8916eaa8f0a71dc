"""The oracle for memory predictions: the CPU allocator's own accounting of a real step.

The model runs for real on the CPU under ``torch.profiler.profile(profile_memory=True)``. Every allocation and
free of the CPU allocator is an event carrying the allocator's running total (``total_allocated``, counted from
the start of profiling), so the step's peak is the bytes alive before it (weights, buffers, input, targets,
optimizer state) plus the largest running total during it.
"""
from __future__ import annotations

from typing import Optional

import torch
from torch import nn
from torch._C._profiler import _EventType
from torch.profiler import ProfilerActivity, profile


def _storage_bytes(tensors) -> int:
    seen = {}
    for t in tensors:
        if isinstance(t, torch.Tensor):
            st = t.untyped_storage()
            seen[st.data_ptr()] = st.nbytes()
    return sum(seen.values())


def _running_peak(prof) -> int:
    allocations = []
    stack = list(prof.profiler.kineto_results.experimental_event_tree())
    while stack:
        node = stack.pop()
        if node.tag == _EventType.Allocation and node.extra_fields.device.type == "cpu":
            allocations.append(node)
        stack.extend(node.children)
    allocations.sort(key=lambda n: n.start_time_ns)
    return max((n.extra_fields.total_allocated for n in allocations), default=0)


def measured_peak(model: nn.Module, x: torch.Tensor, *, train: bool = False,
                  optimizer: Optional[torch.optim.Optimizer] = None, amp: Optional[torch.dtype] = None) -> int:
    """Peak bytes of one real step on the CPU: an inference pass, or a steady-state training step.

    Training follows the prediction's definition: forward, cross-entropy against integer targets (the output's
    sum for non-classifier outputs), backward, optimizer step, ``zero_grad(set_to_none=True)``; the output and
    loss are released after backward. The optimizer's state is created first by a step on zero gradients.
    """
    model.train(train)
    target = torch.zeros(x.shape[0], dtype=torch.long) if train else None

    def step():
        if not train:
            with torch.no_grad():
                out = model(x)
            del out
            return
        if amp is not None:
            with torch.autocast("cpu", dtype=amp):
                out = model(x)
                loss = nn.functional.cross_entropy(out, target) if out.dim() == 2 else out.sum()
        else:
            out = model(x)
            loss = nn.functional.cross_entropy(out, target) if out.dim() == 2 else out.sum()
        loss.backward()
        del loss, out
        if optimizer is not None:
            optimizer.step()
        model.zero_grad(set_to_none=True)

    if train:  # steady state: the optimizer's state exists before the measured step
        for p in model.parameters():
            p.grad = torch.zeros_like(p) if p.requires_grad else None
        if optimizer is not None:
            optimizer.step()
        model.zero_grad(set_to_none=True)
    else:  # kernels' one-time caches
        step()
    before = _storage_bytes(list(model.parameters()) + list(model.buffers()) + [x, target]
                            + [t for s in (optimizer.state.values() if optimizer else ()) for t in s.values()])
    with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
        step()
    return before + _running_peak(prof)


def agrees(model: nn.Module, shape, train: bool, tolerance: float = 0.005):
    """The prediction for ``--device cpu`` (SGD when training) against the allocator's peak of the same real
    step, within ``tolerance``: returns the prediction's report."""
    import pytest

    from cnnprofile.analyses.memory import memory

    torch.manual_seed(0)
    x = torch.randn(shape)
    opt = torch.optim.SGD(model.parameters(), lr=0.01, foreach=False) if train else None
    measured = measured_peak(model, x, train=train, optimizer=opt)
    model.zero_grad(set_to_none=True)
    report = memory(model, shape, train=train, optimizer="sgd" if train else "none", device="cpu")
    assert report.peak_bytes == pytest.approx(measured, rel=tolerance), (report.peak_bytes, measured)
    return report

