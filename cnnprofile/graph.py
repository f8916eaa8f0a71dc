"""The traced graph of a forward pass: which tensors each ATen op reads and writes, attributed to module calls.

The counting tracer (``tracer.py``) records costs and shapes; the receptive field and the roofline need the
data flow as well: for every op, the identities of its input and output tensors and its arguments (a
convolution's stride and padding, a pooling's kernel). Every tensor seen is kept alive until the graph is
dropped, so that ``id()`` names one tensor only. On the meta device that costs nothing.

Rows follow the analyzer's rule so that records line up with the layer table: a leaf module call is one
row; a run of ops in a non-leaf module's own ``forward`` (``x + identity``, ``torch.cat``) is a row named
after that module.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn
from torch.utils._pytree import tree_leaves

from .dispatch import LightDispatchMode, call_op
from .formulas import Cost, cost_of


@dataclass
class GraphCall:
    id: int
    name: str
    module: nn.Module
    parent: int | None
    children: int = 0
    output: Any = None  # what the module returned


@dataclass(frozen=True)
class Node:
    """One dispatched op: its arguments as passed (tensors included), what it returned, and its cost."""

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
    cost: Cost | None


@dataclass
class Row:
    """A layer row: the same unit, and the same name, as a row of the analyzer's table."""

    name: str
    call: int
    segment: bool  # a run of functional ops in a non-leaf module's forward
    nodes: list = field(default_factory=list)
    output: Any = None


@dataclass
class Graph:
    input: torch.Tensor
    calls: list = field(default_factory=list)
    events: list = field(default_factory=list)  # ("start", call id), ("op", node index), ("end", call id)
    nodes: list = field(default_factory=list)
    keep: list = field(default_factory=list)  # every tensor seen, so that ids are never reused

    def rows(self) -> list:
        rows: list[Row] = []
        leaf: dict[int, Row] = {}
        segment: Row | None = None
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


def _alias(func) -> tuple:
    returns = func._schema.returns
    info = returns[0].alias_info if returns else None
    return info is not None, info is not None and info.is_write


class _Recorder(LightDispatchMode):
    def __init__(self, graph: Graph, stack: list):
        super().__init__()
        self.graph, self.stack = graph, stack

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        out = call_op(func, args, kwargs)
        if self.stack:
            name = str(func.overloadpacket)
            ins = tuple({id(t): t for t in tree_leaves((args, kwargs)) if isinstance(t, torch.Tensor)}.values())
            outs = tuple(t for t in tree_leaves(out) if isinstance(t, torch.Tensor))
            self.graph.keep.extend(ins + outs)
            self.graph.nodes.append(Node(len(self.graph.nodes), self.stack[-1], name, args, kwargs, out, ins, outs,
                                         *_alias(func), cost_of(name, args, kwargs, out)))
            self.graph.events.append(("op", len(self.graph.nodes) - 1))
        return out


class _Stop(Exception):
    pass


def trace_graph(model: nn.Module, x: torch.Tensor, run: Callable | None = None,
                stop_after_call: int | None = None) -> Graph:
    """Run ``run(x)`` (default ``model(x)``) recording the graph; the model's modes are restored after.

    ``stop_after_call`` ends the forward pass as soon as that module call returns, for running a model only
    up to a feature map (on an input its classifier would refuse).
    """
    graph = Graph(input=x)
    graph.keep.append(x)
    names = {id(m): n for n, m in model.named_modules(remove_duplicate=True)}
    stack: list = []

    def pre_hook(module, args):
        parent = stack[-1] if stack else None
        call = GraphCall(len(graph.calls), names.get(id(module), "?"), module, parent)
        if parent is not None:
            graph.calls[parent].children += 1
        graph.calls.append(call)
        stack.append(call.id)
        graph.events.append(("start", call.id))

    def post_hook(module, args, output):
        call_id = stack.pop()
        graph.calls[call_id].output = output
        graph.events.append(("end", call_id))
        if call_id == stop_after_call:
            raise _Stop

    handles = [h for m in model.modules()
               for h in (m.register_forward_pre_hook(pre_hook), m.register_forward_hook(post_hook))]
    try:
        with _Recorder(graph, stack):
            (run or model)(x)
    except _Stop:
        pass
    finally:
        for h in handles:
            h.remove()
    return graph


def trace_meta(model: nn.Module, input_shape: tuple, dtype: torch.dtype = torch.float32,
               stop_after_call: int | None = None) -> Graph:
    """Trace on the meta device without touching ``model``: its parameters and buffers are swapped for meta
    stand-ins for the call only, and its training mode is restored afterwards."""
    state = {n: torch.empty(t.shape, dtype=dtype if t.is_floating_point() else t.dtype, device="meta")
             for named in (model.named_parameters(), model.named_buffers()) for n, t in named}
    modes = {m: m.training for m in model.modules()}
    model.eval()
    x = torch.empty(input_shape, dtype=dtype, device="meta")
    try:
        with torch.no_grad():
            return trace_graph(model, x, lambda inp: torch.func.functional_call(model, state, (inp,)),
                               stop_after_call)
    finally:
        for m, mode in modes.items():
            m.train(mode)


def resolve(model, input_size=None, batch: int | None = None, kwargs: dict | None = None) -> tuple:
    """(module on the meta device or the user's own, shape, name) like ``sources.module_and_shape``; a user's
    module with an explicit shape keeps it as given, of any rank: (N, F), (N, C, L), (N, C, D, H, W)."""
    from .sources import module_and_shape

    if isinstance(model, nn.Module) and isinstance(input_size, (tuple, list)) and batch is None:
        return model, tuple(input_size), type(model).__name__
    module, shape, name = module_and_shape(model, input_size, batch, kwargs, device="meta")
    return module, tuple(shape), name or type(module).__name__


def traced(model, input_size=None, batch: int | None = None, kwargs: dict | None = None,
           dtype: torch.dtype = torch.float32) -> tuple:
    """(graph, name, shape) of a spec or module on the meta device; the model's own error as one line."""
    from .errors import TraceError

    module, shape, name = resolve(model, input_size, batch, kwargs)
    try:
        return trace_meta(module, shape, dtype), name, shape
    except Exception as error:  # the model's own forward raised
        reason = (str(error).strip().splitlines() or [type(error).__name__])[0]
        raise TraceError(f"{name} cannot run on input {'x'.join(map(str, shape))}: {reason}") from error
