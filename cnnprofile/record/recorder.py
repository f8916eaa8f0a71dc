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

import gc
import sys
import weakref
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Optional

import torch
from torch import nn

from ..dispatch import LightDispatchMode, call_op
from .calls import CallLog, StopRecording
from .storage import StorageLog


@dataclass(frozen=True)
class Node:
    """One dispatched op: its arguments as passed (tensors as recorded), what it returned, and where it ran."""

    index: int
    call: Optional[int]  # the module call that ran it; None outside any (a backward pass, an optimizer step)
    op: str  # overload packet, e.g. "aten.convolution"
    args: tuple
    kwargs: dict
    out: Any
    inputs: tuple  # distinct input tensors, in argument order
    outputs: tuple  # output tensors
    aliases: bool  # the first output is a view of, or the same tensor as, an input (no new memory)
    in_place: bool  # ... and the op writes it (``relu_``, ``add_``): memory traffic without allocation
    tag: Any = None  # what the recorder's ``tag()`` said when the op ran (a training step's phase and unit)


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
    tensors: Any = None  # how this recording records tensors (``_Tensors``)
    storage: Any = None  # the storage lifetimes (``storage.StorageLog``), where they were asked for
    _rows: Any = field(default=None, repr=False, compare=False)  # (events seen, rows) once derived

    @property
    def input(self) -> Optional[torch.Tensor]:
        """The main input (the first one), from which receptive fields are measured."""
        return self.inputs[0] if self.inputs else None

    def rows(self) -> list:
        """The layer rows; derived once (every analysis of a recording groups by them) and again only if the
        recording has grown since."""
        if self._rows is not None and self._rows[0] == len(self.events):
            return self._rows[1]
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
                if node.call is None:  # outside the forward pass (a training step's backward): no layer row
                    segment = None
                    continue
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
        self._rows = (len(self.events), rows)
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
    """How tensors are recorded. ``stand_ins``: "real" records meta tensors as themselves and real ones as meta
    tensors of the same layout, "all" records every tensor as such a stand-in (so the step's own tensors die
    when it drops them, as a storage tracker needs), "none" records every tensor as itself. A stand-in is made
    once per live tensor (a freed tensor's id may be reused by a new one, which gets a stand-in of its own)."""

    def __init__(self, keep: list, stand_ins: str = "real"):
        if stand_ins not in ("real", "all", "none"):
            raise ValueError(f"stand_ins must be 'real', 'all' or 'none', not {stand_ins!r}")
        self.keep, self.stand_ins = keep, stand_ins
        self.as_is = stand_ins == "none"
        self._seen: dict[int, torch.Tensor] = {}
        # id -> (weak reference, stand-in): torch's WeakIdKeyDictionary builds a Python key object per lookup,
        # a fifth of a recorded pass with stand-ins; a dead referent marks an id that a new tensor reuses.
        self._stand_ins: dict[int, tuple] = {}

    def __call__(self, t: torch.Tensor) -> torch.Tensor:
        if self.as_is or (self.stand_ins == "real" and t.device.type == "meta"):
            if id(t) not in self._seen:
                self._seen[id(t)] = t
                self.keep.append(t)
            return t
        found = self._stand_ins.get(id(t))
        if found is not None and found[0]() is t:
            return found[1]
        rec = torch.empty_strided(t.shape, t.stride(), dtype=t.dtype, device="meta")
        self._stand_ins[id(t)] = (weakref.ref(t), rec)
        self.keep.append(rec)
        return rec

    def tree(self, value):
        """``value`` with every tensor replaced by its recording (tuples, lists and dicts rebuilt)."""
        if self.as_is:
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
        return out
    items = value.values() if isinstance(value, dict) else value if isinstance(value, (list, tuple)) else ()
    for v in items:  # one level at a time: an op's lists are mostly of ints (sizes, strides), not worth a call each
        if isinstance(v, torch.Tensor):
            out.append(v)
        elif isinstance(v, (list, tuple, dict)):
            _tensors(v, out)
    return out


class _Recorder(LightDispatchMode):
    def __init__(self, rec: Recording, log: CallLog, tensors: _Tensors, observers: tuple, everywhere: bool,
                 tag: Optional[Callable[[], Any]]):
        super().__init__()
        self.rec, self.log, self.tensors = rec, log, tensors
        self.observers, self.everywhere, self.tag = observers, everywhere, tag
        self.lifetimes = rec.storage

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        modules = len(sys.modules)
        out = call_op(func, args, kwargs)
        if len(sys.modules) != modules:
            # The op's kernel imported something on its first call (torch's Python kernels import sympy and
            # torch._dynamo). An import leaves frames in reference cycles, and they hold the op's tensors: with
            # the collector paused (``collector``) those would outlive their last real use and raise the peak.
            gc.collect()
        for observe in self.observers:
            observe(func, args, kwargs, out)
        if self.log.stack or self.everywhere:
            rec, tensors = self.rec, self.tensors
            if tensors.as_is:
                r_args, r_kwargs, r_out = args, kwargs, out
            else:
                r_args, r_kwargs, r_out = tensors.tree(args), tensors.tree(kwargs), tensors.tree(out)
            ins = tuple({id(t): t for t in _tensors((r_args, r_kwargs), [])}.values())
            outs = tuple(_tensors(r_out, []))
            if tensors.as_is:  # kept alive, so that an id names one tensor for the whole recording
                rec.keep.extend(ins)
                rec.keep.extend(outs)
            call = self.log.stack[-1].id if self.log.stack else None
            rec.nodes.append(Node(len(rec.nodes), call, str(func.overloadpacket), r_args, r_kwargs, r_out, ins, outs,
                                  *_alias(func), self.tag() if self.tag is not None else None))
            rec.events.append(("op", len(rec.nodes) - 1))
            if self.lifetimes is not None:
                self.lifetimes.op(len(rec.nodes) - 1, out)
        elif self.lifetimes is not None:  # not a recorded op, but its outputs take memory all the same
            self.lifetimes.op(None, out)
        return out


@contextmanager
def recording(model: nn.Module, *, inputs: tuple = (), params: tuple = (), stop_after_call: Optional[int] = None,
              stand_ins: str = "real", grad: bool = False, observers: tuple = (), listeners: tuple = (),
              everywhere: bool = False, tag: Optional[Callable[[], Any]] = None,
              lifetimes: Optional[StorageLog] = None) -> Iterator[Recording]:
    """Record what runs inside the ``with`` block: the caller drives the model (one forward, or a whole
    training step). ``record`` is the one-forward case; see it for ``inputs``, ``params``, ``stop_after_call``
    and ``grad``. ``stand_ins``: how tensors are recorded (``_Tensors``).

    ``observers`` are called as ``observe(func, args, kwargs, out)`` after every op with its own tensors (a
    storage tracker); ``listeners`` are told of module calls (``start(call, args)``, ``end(call, output)``);
    ``everywhere`` records ops outside any module call too (a backward pass, an optimizer step), each tagged
    with what ``tag()`` says when it runs. ``lifetimes`` (a ``storage.StorageLog`` holding what exists before
    the pass, with ``stand_ins="all"``) logs every storage the ops allocate and when it is freed. Raises
    ``calls.ModelRaised`` if the model does.
    """
    if lifetimes is not None and stand_ins != "all":
        raise ValueError("storage lifetimes need stand_ins='all': recording the tensors themselves keeps them alive")
    rec = Recording(storage=lifetimes)
    tensors = _Tensors(rec.keep, stand_ins)
    rec.tensors = tensors
    rec.inputs = tuple(tensors(t) for t in inputs)
    rec.params = {id(tensors(t)): info for t, info in params}

    def on_start(call, args):
        rec.events.append(("start", call.id))
        for listener in listeners:
            listener.start(call, args)

    def on_end(call, output):
        for listener in listeners:
            listener.end(call, output)
        call.output = tensors.tree(output)
        rec.events.append(("end", call.id))
        if call.id == stop_after_call:
            raise StopRecording

    log = CallLog(model, on_start=on_start, on_end=on_end)
    rec.calls = log.calls
    try:
        with log.hooked(), torch.set_grad_enabled(grad), _Recorder(rec, log, tensors, tuple(observers), everywhere,
                                                                  tag):
            yield rec
    except StopRecording:
        pass
    finally:
        if lifetimes is not None:
            lifetimes.close()


def record(model: nn.Module, run: Callable[[], Any], *, inputs: tuple = (), params: tuple = (),
           stop_after_call: Optional[int] = None, stand_ins: str = "real", grad: bool = False,
           lifetimes: Optional[StorageLog] = None) -> Recording:
    """Run ``run()`` (which calls ``model``) and record it.

    ``stand_ins`` ("real" for a pass on real tensors) records each real tensor as a meta tensor of its layout,
    so the recording holds no activation memory; a pass on the meta device records its own tensors ("none"),
    which cost nothing (``record_module`` chooses). ``inputs`` are the input tensors ``run`` passes (recorded
    first, so the recording knows them); ``params`` pairs the parameter tensors the forward pass reads with
    (name, numel, bytes), so analyses can attribute parameters to where they are used. ``stop_after_call``
    ends the pass as soon as that module call returns (a model run only up to a feature map, on an input its
    classifier would refuse). ``grad=True`` leaves autograd on (with ``stand_ins="none"``: a test that
    backpropagates from a recorded output). ``lifetimes``: see ``recording``. Raises ``calls.ModelRaised`` if
    the model does. The caller guards the module (``guard.left_as_found``).
    """
    with recording(model, inputs=inputs, params=params, stop_after_call=stop_after_call, stand_ins=stand_ins,
                   grad=grad, lifetimes=lifetimes) as rec:
        rec.output = rec.tensors.tree(run())
    return rec


__all__ = ["Node", "Recording", "Row", "record", "recording"]
