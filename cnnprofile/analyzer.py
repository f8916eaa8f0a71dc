"""``profile()``: trace a model on the meta device and turn the trace into records.

No weights and no activations are allocated: parameters and buffers are swapped for meta tensors with
``torch.func.functional_call``, so profiling at batch 256 costs what it costs at batch 1, and a user's
real model is left untouched.
"""
from __future__ import annotations

from typing import Optional, Union

import torch
from torch import nn

from .errors import TraceError
from .formulas import Cost
from .inputs import dtype_name, parse_dtype
from .records import CallRecord, LayerRecord, Profile, Totals, UncountedOp
from .sources import ModelSource, module_and_shape
from .tracer import CallEnd, CallStart, ModelRaised, OpEvent, trace

_POOLS = (nn.modules.pooling._MaxPoolNd, nn.modules.pooling._AvgPoolNd, nn.modules.pooling._AdaptiveAvgPoolNd,
          nn.modules.pooling._AdaptiveMaxPoolNd, nn.modules.pooling._LPPoolNd)
_MAC_OPS = {"aten.convolution": "conv", "aten._convolution": "conv", "aten.addmm": "fc", "aten.mm": "fc",
            "aten.bmm": "fc", "aten.baddbmm": "fc"}
_POOL_OPS = ("pool", "aten.mean")


def _size(value) -> str:
    value = tuple(value) if isinstance(value, (tuple, list)) else (value,)
    return str(value[0]) if len(set(value)) == 1 else "x".join(map(str, value))


def classify(module: nn.Module) -> tuple:
    """(kind, lecture label) of a module: conv, pool and fc layers anchor the lecture's rows."""
    if isinstance(module, nn.modules.conv._ConvNd):
        prefix = "DECONV" if module.transposed else "CONV"
        return "conv", f"{prefix}{_size(module.kernel_size)}-{module.out_channels}"
    if isinstance(module, _POOLS):
        kind = "MAXPOOL" if "Max" in type(module).__name__ else "AVGPOOL"
        if isinstance(module, (nn.modules.pooling._AdaptiveAvgPoolNd, nn.modules.pooling._AdaptiveMaxPoolNd)):
            return "pool", f"{kind}-ADAPTIVE"
        return "pool", f"{'POOL' if kind == 'MAXPOOL' else kind}{_size(module.kernel_size)}"
    if isinstance(module, nn.Linear):
        return "fc", f"FC-{module.out_features}"
    return "other", type(module).__name__


def _functional_kind(ops: list) -> str:
    for op in ops:
        if op in _MAC_OPS:
            return _MAC_OPS[op]
    return "pool" if any(key in op for op in ops for key in _POOL_OPS) else "functional"


class _Row:
    def __init__(self, call, kind, label, type_, segment):
        self.call, self.kind, self.label, self.type, self.segment = call, kind, label, type_, segment
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
                kind, label = classify(call.module)
                row = leaf_rows[call.id] = _Row(call, kind, label, type(call.module).__name__, False)
                rows.append(row)
        elif isinstance(ev, OpEvent):
            call = tr.calls[ev.call]
            if call.children == 0:
                row = leaf_rows[call.id]
            else:
                if segment is None or segment.call is not call:
                    segment = _Row(call, "functional", "", "", True)
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
            row.kind = _functional_kind(ops)
            row.label = row.type
        elif row.kind == "other" and not type(row.call.module).__module__.startswith("torch."):
            # A user's own layer (LeNet's trainable subsampling) is what its ops do; torch's own modules are
            # what their type says (LocalResponseNorm pools internally but is a normalisation).
            kind = _functional_kind(ops)
            row.kind = kind if kind != "functional" else "other"
    return rows


def _call_path(tr, call) -> tuple:
    path = []
    while call is not None:
        path.append(call.id)
        call = tr.calls[call.parent] if call.parent is not None else None
    return tuple(reversed(path))


def _record(tr, row: _Row) -> LayerRecord:
    cost = [e.cost for e in row.ops if e.cost is not None]
    shape = row.ops[-1].output_shape if row.segment and row.ops else row.call.output_shape
    return LayerRecord(
        name=row.call.name or "(model)", type=row.type, kind=row.kind, label=row.label, depth=row.call.depth,
        call_path=_call_path(tr, row.call), output_shape=tuple(shape), params=row.params,
        bias_params=row.bias_params, macs=sum(c.macs for c in cost), flops=sum(c.flops for c in cost),
        activation_elems=sum(e.activation_elems for e in row.ops),
        activation_bytes=sum(e.activation_bytes for e in row.ops),
        uncounted_ops=tuple(dict.fromkeys(e.op for e in row.ops if e.cost is None)))


def _uncounted(tr, rows: list) -> tuple:
    found: dict[str, list] = {}
    for row in rows:
        for e in row.ops:
            if e.cost is None:
                found.setdefault(e.op, []).append(row.call.name or "(model)")
    return tuple(UncountedOp(op=op, count=len(where), layers=tuple(dict.fromkeys(where)))
                 for op, where in found.items())


def _meta_state(model: nn.Module, dtype: torch.dtype) -> tuple:
    """Meta stand-ins for parameters and buffers, and {id: (name, numel, bytes)} of the parameter ones."""
    state, params = {}, {}
    for kind, named in (("param", model.named_parameters()), ("buffer", model.named_buffers())):
        for name, t in named:
            meta = torch.empty(t.shape, dtype=dtype if t.is_floating_point() else t.dtype, device="meta")
            state[name] = meta
            if kind == "param":
                params[id(meta)] = (name, meta.numel(), meta.numel() * meta.element_size())
    return state, params


def profile_module(model: nn.Module, input_shape: tuple, dtype: torch.dtype = torch.float32,
                   name: Optional[str] = None) -> Profile:
    """Profile an ``nn.Module`` (on any device) for an input of ``input_shape`` (N, C, H, W)."""
    name = name or type(model).__name__
    modes = {m: m.training for m in model.modules()}
    model.eval()
    x = torch.empty(input_shape, dtype=dtype, device="meta")
    state, params = _meta_state(model, dtype)
    try:
        tr = trace(model, lambda: torch.func.functional_call(model, state, (x,)), frozenset(params))
    except ModelRaised as raised:
        where = (f"layer '{raised.call.name or '(model)'}' ({type(raised.call.module).__name__}) failed"
                 if raised.call is not None else "the forward pass failed")
        reason = (str(raised.error).strip().splitlines() or [type(raised.error).__name__])[0]
        raise TraceError(f"{name} cannot run on input {'x'.join(map(str, input_shape))}: {where}: {reason}") \
            from raised.error
    finally:
        for m, mode in modes.items():
            m.train(mode)

    rows = _rows_from_trace(tr, params)
    x_bytes = x.numel() * x.element_size()
    layers = [LayerRecord(name="input", type="Input", kind="input", label="INPUT", depth=0, call_path=(),
                          output_shape=tuple(input_shape), params=0, bias_params=0, macs=0, flops=0,
                          activation_elems=x.numel(), activation_bytes=x_bytes)]
    layers += [_record(tr, r) for r in rows]
    used = sum(r.params for r in rows)
    totals = Totals(params=used, bias_params=sum(r.bias_params for r in rows),
                    param_bytes=sum(r.param_bytes for r in rows), macs=sum(r.macs for r in layers),
                    flops=sum(r.flops for r in layers), activation_elems=sum(r.activation_elems for r in layers),
                    activation_bytes=sum(r.activation_bytes for r in layers))
    calls = tuple(CallRecord(id=c.id, name=c.name, type=type(c.module).__name__, depth=c.depth, parent=c.parent,
                             output_shape=tuple(c.output_shape)) for c in tr.calls)
    return Profile(model=name, input_shape=tuple(input_shape), dtype=dtype_name(dtype),
                   element_size=x.element_size(), engine="meta",
                   layers=tuple(layers), totals=totals, calls=calls, uncounted_ops=_uncounted(tr, rows),
                   unused_params=sum(numel for _, numel, _ in params.values()) - used)


def profile(model: Union[str, ModelSource, nn.Module], input_size=None, *, batch: Optional[int] = None,
            dtype: Union[str, torch.dtype] = "float32", kwargs: Optional[dict] = None,
            engine: str = "meta") -> Profile:
    """Profile a model by name or spec (``"resnet50"``, ``"torchvision:resnet50"``, ``"file.py:build"``; see
    ``cnnprofile.sources``), a resolved ``ModelSource`` or any ``nn.Module``.

    ``input_size`` is (N, C, H, W), (C, H, W) or a string such as ``"1x3x224x224"``; a named model defaults to
    its native size. ``batch`` overrides N. ``kwargs`` go to the model's builder. ``engine="fvcore"`` counts
    with fvcore instead (see ``cnnprofile.engines``).
    """
    dtype = parse_dtype(dtype) if isinstance(dtype, str) else dtype
    if engine != "meta":
        from .engines import profile_with

        return profile_with(engine, model, input_size, batch=batch, dtype=dtype, kwargs=kwargs)
    module, shape, name = module_and_shape(model, input_size, batch, kwargs, device="meta")
    return profile_module(module, shape, dtype, name=name)


__all__ = ["profile", "profile_module", "classify", "Cost"]
