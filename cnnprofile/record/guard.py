"""The guard: a user's module is left exactly as it was found, whether what ran on it returned or raised.

Profiling hands stand-ins for parameters and buffers to the forward pass, but a model's own ``forward`` may
still rebind what it keeps: torchvision's anchor generator caches its anchors as a plain list attribute and
re-creates it on the device of its input, so a pass on the meta device would leave meta tensors in a model the
user then runs on the CPU. The guard snapshots, for every submodule, what makes up its state: the training
flag, hooks, the parameter, buffer and child mappings, each parameter's data, gradient and ``requires_grad``,
each buffer, and every plain attribute (tensors and containers of them included), and restores the lot.
Values are not copied: nothing we run writes into the user's own tensors (they reach the forward pass as
stand-ins or detached aliases), so keeping their identity keeps their values.
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

from torch import nn

_HOOK_DICTS = ("_forward_hooks", "_forward_pre_hooks", "_forward_hooks_with_kwargs", "_forward_hooks_always_called",
               "_forward_pre_hooks_with_kwargs", "_backward_hooks", "_backward_pre_hooks",
               "_state_dict_hooks", "_state_dict_pre_hooks", "_load_state_dict_pre_hooks",
               "_load_state_dict_post_hooks")


_CONTAINERS = (list, dict, set)
_EMPTY = ()  # an empty container: restored by emptying it, nothing to copy


class ModuleState:
    """A snapshot of one module tree's state; ``restore()`` puts it back."""

    def __init__(self, model: nn.Module):
        self.attrs = []  # (module, __dict__ copy, {key: items of each mutable container})
        for m in model.modules():
            d = m.__dict__.copy()
            held = {}
            for k, v in d.items():
                if isinstance(v, _CONTAINERS):  # OrderedDict hook tables are dicts too
                    held[k] = v.copy() if v else _EMPTY
            self.attrs.append((m, d, held))
        self.params = [(p, p.data, p.grad, p.requires_grad) for p in model.parameters(recurse=True)]
        self.buffers = [(m, name, b, b.requires_grad) for m, _, held in self.attrs
                        for name, b in m._buffers.items() if b is not None]

    def restore(self) -> None:
        for m, d, held in self.attrs:
            live = m.__dict__
            if len(live) != len(d) or live.keys() != d.keys():
                for key in [k for k in live if k not in d]:  # attributes the run added
                    del live[key]
            for key, value in d.items():
                if live.get(key, _MISSING) is not value:
                    live[key] = value
            for key, items in held.items():  # the same container object, its items as they were
                value = d[key]
                if items is _EMPTY:
                    if value:
                        value.clear()
                elif isinstance(value, list):
                    value[:] = items
                else:
                    value.clear()
                    value.update(items)
        for p, data, grad, requires_grad in self.params:
            if p.data is not data:
                p.data = data
            if p.grad is not grad:
                p.grad = grad
            if p.requires_grad != requires_grad:
                p.requires_grad_(requires_grad)
        for m, name, b, requires_grad in self.buffers:
            m._buffers[name] = b
            if b.requires_grad != requires_grad:
                b.requires_grad_(requires_grad)


_MISSING = object()


@contextmanager
def left_as_found(model: nn.Module, eval_mode: bool = True) -> Iterator[nn.Module]:
    """``model`` (in eval mode for the duration if ``eval_mode``); afterwards, returned or raised, the whole
    module tree as it was found (``ModuleState``)."""
    state = ModuleState(model)
    if eval_mode:
        model.eval()
    try:
        yield model
    finally:
        state.restore()


__all__ = ["ModuleState", "left_as_found"]
