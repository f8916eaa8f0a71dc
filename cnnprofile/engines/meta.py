"""The meta engine: trace ATen ops on the meta device (``cnnprofile.tracer``) and turn the trace into rows.

No weights and no activations are allocated: parameters and buffers are swapped for meta tensors with
``torch.func.functional_call``, so profiling at batch 256 costs what it costs at batch 1, and the user's
module is left untouched.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Optional

import torch
from torch import nn

from ..formulas import op_name
from ..inputs import Inputs, check_signature, dtype_name, integer_high, resolve_inputs
from ..outputs import output_leaves, output_shapes
from ..records import LayerRecord, Profile, UncountedOp
from ..tracer import CallEnd, CallStart, OpEvent, trace
from .base import Engine, ModelRaised, anatomy, assemble, call_records, cannot_run, left_as_found, input_row

_MAC_OPS = {"aten.convolution": "conv", "aten._convolution": "conv", "aten.addmm": "fc", "aten.mm": "fc",
            "aten.bmm": "fc", "aten.baddbmm": "fc"}
_POOL_OPS = ("pool", "aten.mean")


def _functional_kind(ops: list) -> str:
    for op in ops:
        if op in _MAC_OPS:
            return _MAC_OPS[op]
    return "pool" if any(key in op for op in ops for key in _POOL_OPS) else "functional"


class _Row:
    def __init__(self, call, segment: bool, layer: dict):
        self.call, self.segment, self.layer = call, segment, layer
        self.type = "" if segment else type(call.module).__name__
        self.ops: list[OpEvent] = []
        self.params = self.bias_params = self.param_bytes = 0


def _claim(row: _Row, ev: OpEvent, params: dict, claimed: set) -> None:
    """Parameters belong to the row of the first op that reads them (Swin and ViT pass a child's weight
    to a function in the parent's forward: the child never runs, but its weight is used)."""
    for pid in ev.params_read:
        if pid not in claimed:
            claimed.add(pid)
            name, numel, nbytes = params[pid]
            row.params += numel
            row.bias_params += numel if name.endswith("bias") else 0
            row.param_bytes += nbytes


def _rows_from_trace(tr, params: dict) -> list:
    rows: list[_Row] = []
    leaf_rows: dict[int, _Row] = {}
    claimed: set = set()
    segment: Optional[_Row] = None
    for ev in tr.events:
        if isinstance(ev, CallStart):
            segment = None
            call = tr.calls[ev.call]
            if call.children == 0:
                row = leaf_rows[call.id] = _Row(call, False, anatomy(call.module))
                rows.append(row)
        elif isinstance(ev, OpEvent):
            call = tr.calls[ev.call]
            if call.children == 0:
                row = leaf_rows[call.id]
            else:
                if segment is None or segment.call is not call:
                    segment = _Row(call, True, dict(kind="functional"))
                    rows.append(segment)
                row = segment
            row.ops.append(ev)
            _claim(row, ev, params, claimed)
        elif isinstance(ev, CallEnd):
            segment = None
    for row in rows:
        ops = list(dict.fromkeys(e.op for e in row.ops))
        if row.segment:
            row.type = "+".join(op.replace("aten.", "") for op in ops)
            row.layer = dict(kind=_functional_kind(ops))
        elif row.layer["kind"] == "other" and not type(row.call.module).__module__.startswith("torch."):
            # A user's own layer (LeNet's trainable subsampling) is what its ops do; torch's own modules are
            # what their type says (LocalResponseNorm pools internally but is a normalisation).
            kind = _functional_kind(ops)
            row.layer = dict(kind=kind if kind != "functional" else "other")
    return rows


def _record(row: _Row) -> LayerRecord:
    cost = [e.cost for e in row.ops if e.cost is not None]
    shape = row.ops[-1].output_shape if row.segment and row.ops else row.call.output_shape
    return LayerRecord(
        name=row.call.name or "(model)", type=row.type, depth=row.call.depth, call_path=row.call.path,
        output_shape=tuple(shape), params=row.params, bias_params=row.bias_params,
        macs=sum(c.macs for c in cost), flops=sum(c.flops for c in cost),
        activation_elems=sum(e.activation_elems for e in row.ops),
        activation_bytes=sum(e.activation_bytes for e in row.ops),
        uncounted_ops=tuple(dict.fromkeys(e.op for e in row.ops if e.cost is None)), **row.layer)


def _uncounted(rows: list) -> tuple:
    found: dict[str, list] = {}
    for row in rows:
        for e in row.ops:
            if e.cost is None:
                found.setdefault(e.op, []).append(row.call.name or "(model)")
    return tuple(UncountedOp(op=op, count=len(where), layers=tuple(dict.fromkeys(where)))
                 for op, where in found.items())


def _state(model: nn.Module, dtype: torch.dtype, device: str) -> tuple:
    """Stand-ins for parameters and buffers, and {id: (name, numel, bytes)} of the parameter ones.

    On the meta device they are empty meta tensors; for a real run they are detached aliases of the model's own
    tensors (converted copies where the dtype differs), so the model itself is never moved, cast or changed.
    """
    state, params = {}, {}
    for kind, named in (("param", model.named_parameters()), ("buffer", model.named_buffers())):
        for name, t in named:
            to = dtype if t.is_floating_point() else t.dtype
            if device == "meta":
                new = torch.empty(t.shape, dtype=to, device="meta")
            elif t.device.type == "meta":  # a module built without values: random ones, as a named model gets
                new = _random_like(name, t, to, kind)
            else:
                new = t.detach().to(to)
            state[name] = new
            if kind == "param":
                params[id(new)] = (name, new.numel(), new.numel() * new.element_size())
    return state, params


def _random_like(name: str, t: torch.Tensor, dtype: torch.dtype, kind: str) -> torch.Tensor:
    if kind == "param" or not t.is_floating_point():
        return (torch.randn(t.shape) * 0.02).to(dtype) if t.is_floating_point() else torch.zeros(t.shape, dtype=dtype)
    return (torch.ones if name.endswith("var") else torch.zeros)(t.shape, dtype=dtype)  # normalisation statistics


class MetaEngine(Engine):
    """Our formula registry over the ATen ops of one forward pass on the meta device."""

    name = "meta"
    device = "meta"  # where the inputs and the stand-ins for the weights live

    def count(self, module: nn.Module, input_shape, *, dtype: torch.dtype, name: str,
              formulas: Optional[dict] = None, note: str = "") -> Profile:
        inputs = input_shape if isinstance(input_shape, Inputs) else resolve_inputs(None, input_shape)
        check_signature(module, inputs, type(module).__name__)
        real = self.device != "meta"
        args, kwargs = inputs.make(self.device, dtype, real=real, int_high=integer_high(module) if real else 2)
        state, params = _state(module, dtype, self.device)
        extra = {op_name(op): fn for op, fn in (formulas or {}).items()}
        outputs = []
        try:
            with left_as_found(module):
                tr = trace(module, lambda: outputs.append(torch.func.functional_call(module, state, args, kwargs)),
                           frozenset(params), extra)
        except ModelRaised as raised:
            raise cannot_run(name, inputs, raised, suggest_real=not real) from raised.error
        rows = _rows_from_trace(tr, params)
        leaves = inputs.leaves()
        layers = [_input_row(key, len(leaves), t) for (key, _), (_, t) in zip(leaves, output_leaves((args, kwargs)))]
        layers += [_record(r) for r in rows]
        return assemble(name=name, engine=self.name, input_shape=inputs.main.shape, dtype=dtype, layers=layers,
                        calls=call_records(tr.calls), param_bytes=sum(r.param_bytes for r in rows),
                        all_params=sum(numel for _, numel, _ in params.values()), uncounted_ops=_uncounted(rows),
                        inputs=tuple((key, tuple(spec.shape), dtype_name(spec.dtype or dtype)) for key, spec in leaves),
                        output_shapes=output_shapes(outputs[0]) if outputs else (), engine_note=note)


def _input_row(key: str, count: int, t: torch.Tensor) -> LayerRecord:
    row = input_row(tuple(t.shape), t.numel(), t.numel() * t.element_size())
    return row if count == 1 else replace(row, name=f"input.{key}")


ENGINE = MetaEngine()
