"""Meta-device tracing: every operator a forward pass dispatches, attributed to the module call that ran it.

Module hooks (``engines.base.CallLog``) keep the stack of module calls in progress; a TorchDispatchMode sees
each operator after ``forward()`` has been decomposed, so functional calls (``torch.cat``, ``x + y``,
``F.relu``, ``flatten``) are seen as well as ``nn.Module``s. Nothing here formats or aggregates: it only records.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping, Optional

import torch
from torch import nn

from .dispatch import LightDispatchMode, call_op
from .engines.base import CallLog
from .formulas import Cost, cost_of, first_tensor


@dataclass(frozen=True)
class OpEvent:
    call: int
    op: str
    cost: Optional[Cost]  # None: no formula for it
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
    calls: list = field(default_factory=list)  # of engines.base.Call
    events: list = field(default_factory=list)  # CallStart, OpEvent and CallEnd in execution order


def _tensors(args: tuple, kwargs: dict):
    """The tensors among an ATen op's arguments: ATen takes tensors directly or in one flat list (``cat``,
    ``stack``), so this needs none of pytree's generality, which is a tenth of the tracing time."""
    for value in (*args, *kwargs.values()):
        if isinstance(value, torch.Tensor):
            yield value
        elif isinstance(value, (list, tuple)):
            for item in value:
                if isinstance(item, torch.Tensor):
                    yield item


def _allocates(func) -> bool:
    # Views and in-place/out= ops return (an alias of) an input: no new memory.
    returns = func._schema.returns
    return bool(returns) and returns[0].alias_info is None


class _OpRecorder(LightDispatchMode):
    def __init__(self, trace: Trace, log: CallLog, param_ids: frozenset, formulas: Optional[Mapping]):
        super().__init__()
        self.trace, self.log, self.param_ids, self.formulas = trace, log, param_ids, formulas

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        out = call_op(func, args, kwargs)
        if self.log.stack:
            name = str(func.overloadpacket)
            first = first_tensor(out)
            elems = first.numel() if first is not None and _allocates(func) else 0
            ids = self.param_ids
            read = tuple(id(t) for t in _tensors(args, kwargs) if id(t) in ids)
            self.trace.events.append(OpEvent(
                call=self.log.stack[-1].id, op=name, cost=cost_of(name, args, kwargs, out, self.formulas),
                activation_elems=elems, activation_bytes=elems * first.element_size() if elems else 0,
                output_shape=tuple(first.shape) if first is not None else (), params_read=read))
        return out


def trace(model: nn.Module, run, params: frozenset = frozenset(), formulas: Optional[Mapping] = None) -> Trace:
    """Run ``run()`` (which calls ``model``) with the call hooks and the op recorder installed.

    ``params`` are the ids of the parameter tensors the forward pass will read; each op records which of them
    it reads, so parameters can be attributed to where they are used, not to the module that owns them.
    ``formulas`` add to or replace the registry's for this run. Raises ``ModelRaised`` if the model does.
    """
    tr = Trace()
    log = CallLog(model, on_start=lambda call: tr.events.append(CallStart(call.id)),
                  on_end=lambda call: tr.events.append(CallEnd(call.id)))
    tr.calls = log.calls
    with log.hooked(), torch.no_grad(), _OpRecorder(tr, log, params, formulas):
        run()
    return tr
