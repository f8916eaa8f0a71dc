"""The layer rows of a recording: each row's shape, parameters, MACs, FLOPs and activation memory.

Costs come from the formula registry (``formulas``), one per recorded op; parameters are attributed to the row
of the first op that reads them; an op with no formula is listed as uncounted, never counted as zero.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping, Optional

from torch import nn

from ..records import LayerRecord, UncountedOp
from ..record.recorder import Node, Recording
from .formulas import Cost, cost_of, first_tensor, op_name

_MAC_OPS = {"aten.convolution": "conv", "aten._convolution": "conv", "aten.addmm": "fc", "aten.mm": "fc",
            "aten.bmm": "fc", "aten.baddbmm": "fc"}
_POOL_OPS = ("pool", "aten.mean")
_POOLS = {nn.modules.pooling._MaxPoolNd: "max", nn.modules.pooling._AvgPoolNd: "avg",
          nn.modules.pooling._LPPoolNd: "avg", nn.modules.pooling._AdaptiveAvgPoolNd: "adaptive-avg",
          nn.modules.pooling._AdaptiveMaxPoolNd: "adaptive-max"}


def op_costs(rec: Recording, formulas: Optional[Mapping] = None) -> list:
    """The cost of every recorded op (None where no formula applies), in node order. ``formulas`` (keyed by op
    name or op, as ``profile(formulas=...)`` takes them) add to or replace the registry's for this recording."""
    extra = {op_name(op): fn for op, fn in formulas.items()} if formulas else None
    return [cost_of(n.op, n.args, n.kwargs, n.out, extra) for n in rec.nodes]


def _tuple(value) -> tuple:
    return tuple(value) if isinstance(value, (tuple, list)) else (value,)


def anatomy(module: nn.Module) -> dict:
    """The kind of a torch module and the plain facts the lecture's label is made of (``LayerRecord`` fields):
    conv, pool and fc layers anchor the lecture's rows; anything else is "other"."""
    if isinstance(module, nn.modules.conv._ConvNd):
        return dict(kind="conv", kernel_size=_tuple(module.kernel_size), out_features=module.out_channels,
                    variant="transposed" if module.transposed else "")
    for base, variant in _POOLS.items():
        if isinstance(module, base):
            kernel = () if variant.startswith("adaptive") else _tuple(module.kernel_size)
            return dict(kind="pool", kernel_size=kernel, variant=variant)
    if isinstance(module, nn.Linear):
        return dict(kind="fc", out_features=module.out_features)
    return dict(kind="other")


def _functional_kind(ops: list) -> str:
    for op in ops:
        if op in _MAC_OPS:
            return _MAC_OPS[op]
    return "pool" if any(key in op for op in ops for key in _POOL_OPS) else "functional"


@dataclass
class _Counted:
    """One row as counted: its ops with their costs, and the parameters it was the first to read."""

    name: str
    call: object  # calls.Call
    segment: bool
    ops: list = field(default_factory=list)  # (Node, Cost or None)
    params: int = 0
    bias_params: int = 0
    param_bytes: int = 0


def _elems(node: Node) -> int:
    # Views and in-place/out= ops return (an alias of) an input: no new memory.
    first = first_tensor(node.out)
    return first.numel() if first is not None and not node.aliases else 0


def counted_rows(rec: Recording, costs: list) -> list:
    rows, claimed = [], set()
    for row in rec.rows():
        counted = _Counted(row.name, rec.calls[row.call], row.segment)
        for node in row.nodes:
            counted.ops.append((node, costs[node.index]))
            for t in node.inputs:  # parameters belong to the row of the first op that reads them
                info = rec.params.get(id(t))
                if info is not None and id(t) not in claimed:
                    claimed.add(id(t))
                    name, numel, nbytes = info
                    counted.params += numel
                    counted.bias_params += numel if name.endswith("bias") else 0
                    counted.param_bytes += nbytes
        rows.append(counted)
    return rows


def _layer(row: _Counted) -> dict:
    ops = list(dict.fromkeys(node.op for node, _ in row.ops))
    if row.segment:
        return dict(kind=_functional_kind(ops))
    layer = anatomy(row.call.module)
    if layer["kind"] == "other" and not type(row.call.module).__module__.startswith("torch."):
        # A user's own layer (LeNet's trainable subsampling) is what its ops do; torch's own modules are
        # what their type says (LocalResponseNorm pools internally but is a normalisation).
        kind = _functional_kind(ops)
        layer = dict(kind=kind if kind != "functional" else "other")
    return layer


def layer_record(row: _Counted) -> LayerRecord:
    costs = [c for _, c in row.ops if c is not None]
    if row.segment:
        type_name = "+".join(op.replace("aten.", "") for op in dict.fromkeys(n.op for n, _ in row.ops))
        last = first_tensor(row.ops[-1][0].out) if row.ops else None
        shape = tuple(last.shape) if last is not None else ()
    else:
        type_name, shape = type(row.call.module).__name__, row.call.output_shape
    elems = [_elems(node) for node, _ in row.ops]
    nbytes = [e * first_tensor(node.out).element_size() if e else 0 for e, (node, _) in zip(elems, row.ops)]
    return LayerRecord(
        name=row.call.name or "(model)", type=type_name, depth=row.call.depth, call_path=row.call.path,
        output_shape=tuple(shape), params=row.params, bias_params=row.bias_params,
        macs=sum(c.macs for c in costs), flops=sum(c.flops for c in costs),
        activation_elems=sum(elems), activation_bytes=sum(nbytes),
        uncounted_ops=tuple(dict.fromkeys(node.op for node, c in row.ops if c is None)), **_layer(row))


def uncounted_ops(rows: list) -> tuple:
    found: dict[str, list] = {}
    for row in rows:
        for node, cost in row.ops:
            if cost is None:
                found.setdefault(node.op, []).append(row.call.name or "(model)")
    return tuple(UncountedOp(op=op, count=len(where), layers=tuple(dict.fromkeys(where)))
                 for op, where in found.items())


__all__ = ["Cost", "anatomy", "counted_rows", "layer_record", "op_costs", "uncounted_ops"]
