"""One recorded forward pass: every ATen op it dispatched, with the tensors it read and wrote and the module call
that ran it. Every analysis (costs and layer rows, receptive fields, memory traffic and the roofline) is a pure
function over this recording, so a model is run once however many columns are asked of it.

A ``TorchDispatchMode`` sees each op after ``forward()`` has been decomposed, so functional calls
(``torch.cat``, ``x + y``, ``F.relu``, ``flatten``) are recorded as well as ``nn.Module``s; module hooks
(``calls.CallLog``) say which call is running. Tensors are recorded as they were: on the meta device the op's
own tensors are kept (they hold no memory, and keeping them alive means ``id()`` names one tensor only); on a
real device each tensor is recorded as a meta tensor of the same shape, dtype and strides, one per live tensor,
so the recording holds no activation memory. Nothing here computes a cost: it only records.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Optional

import torch
from torch import nn
from torch.utils.weak import WeakIdKeyDictionary

from ..dispatch import LightDispatchMode, call_op
from .calls import CallLog, StopRecording


@dataclass(frozen=True)
class Node:
    """One dispatched op: its arguments as passed (tensors as recorded), what it returned, and where it ran."""

    index: int
    call: int
    op: str  # overload packet, e.g. "aten.convolution"
    args: tuple
    kwargs: dict
    out: Any
    inputs: tuple  # distinct input tensors, in argument order
    outputs: tuple  # output tensors
    aliases: bool  # the first output is a view of, or the same tensor as, an input (no new memory)
    in_place: bool  # ... and the op writes it (``relu_``, ``add_``): memory traffic without allocation


@dataclass
class Row:
    """A layer row: a leaf module call, or a run of ops in a non-leaf module's own ``forward`` (``x + identity``,
    ``torch.cat``), named after that module. Every analysis groups ops by these rows, so their records line up."""

    name: str
    call: int
    segment: bool
    nodes: list = field(default_factory=list)
    output: Any = None


@dataclass
class Recording:
    calls: list = field(default_factory=list)  # of calls.Call
    events: list = field(default_factory=list)  # ("start", call id), ("op", node index), ("end", call id)
    nodes: list = field(default_factory=list)
    inputs: tuple = ()  # the recorded input tensors, in ``Inputs.leaves()`` order
    output: Any = None  # what the model returned (recorded tensors)
    params: dict = field(default_factory=dict)  # id of a recorded parameter -> (name, numel, bytes)
    keep: list = field(default_factory=list)  # every tensor recorded, so that ids are never reused

    @property
    def input(self) -> Optional[torch.Tensor]:
        """The main input (the first one), from which receptive fields are measured."""
        return self.inputs[0] if self.inputs else None

    def rows(self) -> list:
        rows: list[Row] = []
        leaf: dict[int, Row] = {}
        segment: Optional[Row] = None
        for kind, ref in self.events:
            if kind == "start":
                segment = None
                call = self.calls[ref]
                if call.children == 0:
                    leaf[ref] = Row(call.name or "(model)", ref, False)
                    rows.append(leaf[ref])
            elif kind == "op":
                node = self.nodes[ref]
                call = self.calls[node.call]
                if call.children == 0:
                    row = leaf[call.id]
                else:
                    if segment is None or segment.call != call.id:
                        segment = Row(call.name or "(model)", call.id, True)
                        rows.append(segment)
                    row = segment
                row.nodes.append(node)
            else:
                segment = None
        for row in rows:
            # A leaf module's output is what it returned (an nn.Identity runs no op); a segment's is its last op's.
            row.output = row.nodes[-1].out if row.segment else self.calls[row.call].output
        return rows


_ALIAS: dict = {}


def _alias(func) -> tuple:
    found = _ALIAS.get(func)
    if found is None:
        returns = func._schema.returns
        info = returns[0].alias_info if returns else None
        found = _ALIAS[func] = (info is not None, info is not None and info.is_write)
    return found


class _Tensors:
    """How tensors are recorded: with ``stand_ins``, meta tensors as themselves and others as meta tensors of
    the same layout, one per live tensor (a freed tensor's id may be reused by a new one, which then gets a
    recording of its own); without, every tensor as itself."""

    def __init__(self, keep: list, stand_ins: bool = True):
        self.keep, self.stand_ins = keep, stand_ins
        self._seen: dict[int, torch.Tensor] = {}
        self._stand_ins = WeakIdKeyDictionary()

    def __call__(self, t: torch.Tensor) -> torch.Tensor:
        if not self.stand_ins or t.device.type == "meta":
            if id(t) not in self._seen:
                self._seen[id(t)] = t
                self.keep.append(t)
            return t
        rec = self._stand_ins.get(t)
        if rec is None:
            rec = torch.empty_strided(t.shape, t.stride(), dtype=t.dtype, device="meta")
            self._stand_ins[t] = rec
            self.keep.append(rec)
        return rec

    def tree(self, value):
        """``value`` with every tensor replaced by its recording (tuples, lists and dicts rebuilt)."""
        if not self.stand_ins:
            return value
        if isinstance(value, torch.Tensor):
            return self(value)
        if isinstance(value, (list, tuple)):
            items = [self.tree(v) for v in value]
            return type(value)(items) if type(value) in (list, tuple) else value
        if isinstance(value, dict):
            return {k: self.tree(v) for k, v in value.items()}
        return value


def _tensors(value, out: list) -> list:
    if isinstance(value, torch.Tensor):
        out.append(value)
    elif isinstance(value, (list, tuple)):
        for v in value:
            _tensors(v, out)
    elif isinstance(value, dict):
        for v in value.values():
            _tensors(v, out)
    return out


class _Recorder(LightDispatchMode):
    def __init__(self, rec: Recording, log: CallLog, tensors: _Tensors):
        super().__init__()
        self.rec, self.log, self.tensors = rec, log, tensors

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        out = call_op(func, args, kwargs)
        if self.log.stack:
            rec, tensors = self.rec, self.tensors
            if tensors.stand_ins:
                r_args, r_kwargs, r_out = tensors.tree(args), tensors.tree(kwargs), tensors.tree(out)
            else:
                r_args, r_kwargs, r_out = args, kwargs, out
            ins = tuple({id(t): t for t in _tensors((r_args, r_kwargs), [])}.values())
            outs = tuple(_tensors(r_out, []))
            if not tensors.stand_ins:  # kept alive, so that an id names one tensor for the whole recording
                rec.keep.extend(ins)
                rec.keep.extend(outs)
            rec.nodes.append(Node(len(rec.nodes), self.log.stack[-1].id, str(func.overloadpacket), r_args, r_kwargs,
                                  r_out, ins, outs, *_alias(func)))
            rec.events.append(("op", len(rec.nodes) - 1))
        return out


def record(model: nn.Module, run: Callable[[], Any], *, inputs: tuple = (), params: tuple = (),
           stop_after_call: Optional[int] = None, stand_ins: bool = True, grad: bool = False) -> Recording:
    """Run ``run()`` (which calls ``model``) and record it.

    ``stand_ins`` (for a pass on real tensors) records each real tensor as a meta tensor of its layout, so the
    recording holds no activation memory; a pass on the meta device records its own tensors, which cost
    nothing (``record_module`` chooses). ``inputs`` are the input tensors ``run`` passes (recorded first, so
    the recording knows them); ``params`` pairs the parameter tensors the forward pass reads with (name,
    numel, bytes), so analyses can attribute parameters to where they are used. ``stop_after_call`` ends the
    pass as soon as that module call returns (a model run only up to a feature map, on an input its
    classifier would refuse). ``grad=True`` leaves autograd on (with ``stand_ins=False``: a test that
    backpropagates from a recorded output). Raises ``calls.ModelRaised`` if the model does. The caller guards
    the module (``guard.left_as_found``).
    """
    rec = Recording()
    tensors = _Tensors(rec.keep, stand_ins)
    rec.inputs = tuple(tensors(t) for t in inputs)
    rec.params = {id(tensors(t)): info for t, info in params}

    def on_start(call):
        rec.events.append(("start", call.id))

    def on_end(call, output):
        call.output = tensors.tree(output)
        rec.events.append(("end", call.id))
        if call.id == stop_after_call:
            raise StopRecording

    log = CallLog(model, on_start=on_start, on_end=on_end)
    rec.calls = log.calls
    try:
        with log.hooked(), torch.set_grad_enabled(grad), _Recorder(rec, log, tensors):
            rec.output = tensors.tree(run())
    except StopRecording:
        pass
    return rec


__all__ = ["Node", "Recording", "Row", "record"]
