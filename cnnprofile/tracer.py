"""Meta-device tracing: every ATen op a forward pass dispatches, attributed to the module call that ran it.

Module hooks keep a stack of the module calls in progress; a TorchDispatchMode sees each operator after
``forward()`` has been decomposed, so functional calls (``torch.cat``, ``x + y``, ``F.relu``, ``flatten``)
are seen as well as ``nn.Module``s. Nothing here formats or aggregates: it only records.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional

import torch
from torch import nn
from torch.utils._pytree import tree_leaves

from .dispatch import LightDispatchMode, call_op
from .formulas import Cost, _first_tensor, cost_of


@dataclass
class Call:
    id: int
    module: nn.Module
    name: str
    parent: Optional[int]
    depth: int
    output_shape: tuple = ()
    children: int = 0


@dataclass(frozen=True)
class OpEvent:
    call: int
    op: str
    cost: Optional[Cost]  # None: no formula in the registry
    activation_elems: int
    activation_bytes: int
    output_shape: tuple
    params_read: tuple = ()  # ids of the parameter tensors among the op's inputs


@dataclass(frozen=True)
class CallStart:
    call: int


@dataclass(frozen=True)
class CallEnd:
    call: int


@dataclass
class Trace:
    calls: list = field(default_factory=list)
    events: list = field(default_factory=list)  # CallStart, OpEvent and CallEnd in execution order
    stack: list = field(default_factory=list)
    param_ids: frozenset = frozenset()  # ids of the tensors standing for the model's parameters


def _shape(value: Any) -> tuple:
    t = _first_tensor(value)
    if t is None and isinstance(value, dict):
        t = _first_tensor(list(value.values()))
    return tuple(t.shape) if t is not None else ()


def _allocates(func) -> bool:
    # Views and in-place/out= ops return (an alias of) an input: no new memory.
    returns = func._schema.returns
    return bool(returns) and returns[0].alias_info is None


class _OpRecorder(LightDispatchMode):
    def __init__(self, trace: Trace):
        super().__init__()
        self.trace = trace

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        out = call_op(func, args, kwargs)
        if self.trace.stack:
            name = str(func.overloadpacket)
            first = _first_tensor(out)
            elems = first.numel() if first is not None and _allocates(func) else 0
            ids = self.trace.param_ids
            read = tuple(id(a) for a in tree_leaves((args, kwargs)) if isinstance(a, torch.Tensor) and id(a) in ids)
            self.trace.events.append(OpEvent(
                call=self.trace.stack[-1], op=name, cost=cost_of(name, args, kwargs, out),
                activation_elems=elems, activation_bytes=elems * first.element_size() if elems else 0,
                output_shape=tuple(first.shape) if first is not None else (), params_read=read))
        return out


class ModelRaised(Exception):
    """The model's forward raised; carries the module call that was running."""

    def __init__(self, call: Optional[Call], error: BaseException):
        super().__init__(str(error))
        self.call = call
        self.error = error


def trace(model: nn.Module, run, params: frozenset = frozenset()) -> Trace:
    """Run ``run()`` (which calls ``model``) with hooks and the op recorder installed.

    ``params`` are the ids of the parameter tensors the forward pass will read; each op records which of them
    it reads, so parameters can be attributed to where they are used, not to the module that owns them.
    """
    tr = Trace(param_ids=params)
    names = {}
    for qualname, module in model.named_modules(remove_duplicate=True):
        names[id(module)] = qualname

    def pre_hook(module, args):
        parent = tr.stack[-1] if tr.stack else None
        call = Call(id=len(tr.calls), module=module, name=names.get(id(module), "?"), parent=parent,
                    depth=0 if parent is None else tr.calls[parent].depth + 1)
        if parent is not None:
            tr.calls[parent].children += 1
        tr.calls.append(call)
        tr.stack.append(call.id)
        tr.events.append(CallStart(call.id))

    def post_hook(module, args, output):
        call_id = tr.stack.pop()
        tr.calls[call_id].output_shape = _shape(output)
        tr.events.append(CallEnd(call_id))

    handles = []
    for module in model.modules():
        handles.append(module.register_forward_pre_hook(pre_hook))
        handles.append(module.register_forward_hook(post_hook))
    try:
        with torch.no_grad(), _OpRecorder(tr):
            run()
    except Exception as error:  # the model's own code raised: report where
        raise ModelRaised(tr.calls[tr.stack[-1]] if tr.stack else None, error) from error
    finally:
        for h in handles:
            h.remove()
    return tr
