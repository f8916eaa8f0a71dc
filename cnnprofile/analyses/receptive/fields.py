"""Receptive fields along the traced graph of ops (Araujo, Norris and Sim, "Computing receptive fields of
convolutional neural networks", Distill 2019).

Per tensor and per spatial axis of the model's input we keep the field of the tensor's unit 0: its size
``r``, the jump ``j`` between neighbouring units (the effective stride, in input pixels) and the centre
``c`` of unit 0's field (input pixel 0 has centre 0). The effective padding is Distill's
``P = (r - 1) / 2 - c``: unit 0 sees input pixels -P .. r - 1 - P. Borders are ignored, as in the paper:
padding is virtual input.

Rules (``RULES`` maps each ATen op to one; tests cover each kind):

- convolution (kernel k, stride s, padding p, dilation d): r + (k-1) d j, j s, c + ((k-1) d / 2 - p) j;
  pooling the same (ceil_mode only adds units at the end, so it changes no field);
- transposed convolution: j / s (a fractional stride), r + (ceil(((k-1) d + 1) / s) - 1) j (the most input
  units one output unit reads, times j), c + (p - (k-1) d / 2) j / s;
- adaptive pooling from I to O units: stride I / O and the widest window as kernel (exact when O divides I);
  to one unit on every spatial axis, or any reduction over a spatial axis (mean, softmax, group norm), the
  unit sees the whole input;
- interpolation from I to O units: stride I / O and as many taps as the mode reads (nearest 1, linear 2,
  cubic 4; align_corners: stride (I - 1) / (O - 1));
- elementwise ops, ``+`` and ``torch.cat``: the union over inputs; different jumps or centres are flagged
  as not aligned; an input that sees the whole input (SENet's channel gate) makes the result see it too;
- fully connected layers and reshapes that merge a spatial axis with another dimension (``flatten``) lose
  the layout: the whole input;
- an op with no rule makes everything after it unknown, and is listed.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from fractions import Fraction

import torch

from ...record.recorder import Recording
from ...record.run import traced
from .field import Axis, Field
from .field import _unknown
from .rules import RULES

F = Fraction
CONVENTION = ("receptive field = input pixels one unit of the layer's output sees, per spatial axis (one number "
              "when all axes agree); effective stride = input pixels between neighbouring units; effective "
              "padding = how far unit 0's field starts before input pixel 0 (Araujo et al., Distill 2019); "
              "'whole' = the unit depends on the entire input (global pooling, fully connected layers, "
              "flattening, or a path such as SENet's gate); borders ignored, padding counted as input")


@dataclass(frozen=True)
class ReceptiveField:
    """A layer row's output field. Numbers are an int (or a float for fractional strides of transposed
    convolutions and interpolation), or a tuple per spatial axis when the axes differ; None where the unit
    has no spatial position (``whole_input``) or an op on the way has no rule (``unknown_ops``)."""

    name: str
    receptive_field: int | float | tuple | None
    effective_stride: int | float | tuple | None
    effective_padding: int | float | tuple | None
    whole_input: bool
    aligned: bool
    unknown_ops: tuple = ()


@dataclass(frozen=True)
class ReceptiveFieldProfile:
    model: str
    input_shape: tuple
    layers: tuple  # of ReceptiveField, one per layer row of the profile (the input row excluded)
    convention: str = CONVENTION

    def last_feature_map(self) -> ReceptiveField | None:
        """The last layer whose units still have a position on the input (a receptive field number)."""
        spatial = [r for r in self.layers if r.receptive_field is not None]
        return spatial[-1] if spatial else None


# --- propagation and records -------------------------------------------------------------------------------

def propagate(graph: Recording) -> dict:
    """{id(tensor): Field} for every tensor that depends on the model's input."""
    x = graph.input
    fields = {id(x): Field((None, None) + tuple(Axis(k, F(1), F(1), F(0)) for k in range(x.dim() - 2)))}
    for node in graph.nodes:
        if not node.outputs:
            continue
        ins = [fields.get(id(t)) for t in node.inputs]
        if all(f is None for f in ins):
            out = None
        else:
            out = RULES.get(node.op, _unknown)(node, ins)
        for t in node.outputs:
            if out is None:
                fields.pop(id(t), None)
            else:
                fields[id(t)] = _fit(out, t.dim())
    return fields


def _fit(f: Field, ndim: int) -> Field:
    # Ops returning several tensors of different ranks (values and a reduced statistic) share one field.
    if len(f.dims) == ndim:
        return f
    return replace(f, dims=(f.dims + (None,) * ndim)[-ndim:] if ndim else ())


def _number(value: Fraction):
    return int(value) if value.denominator == 1 else float(value)


def _per_axis(values: list):
    values = [_number(v) for v in values]
    return values[0] if len(set(values)) == 1 else tuple(values)


def record(name: str, field: Field | None) -> ReceptiveField:
    if field is None:  # the row computes something that does not depend on the input
        return ReceptiveField(name, None, None, None, False, True)
    axes = sorted((a for a in field.dims if a is not None), key=lambda a: a.axis)
    if field.unknown or not axes:
        return ReceptiveField(name, None, None, None, field.whole and not field.unknown, field.aligned,
                              field.unknown)
    return ReceptiveField(name, _per_axis([a.r for a in axes]), _per_axis([a.j for a in axes]),
                          _per_axis([(a.r - 1) / 2 - a.c for a in axes]), field.whole, field.aligned)


def receptive_fields_of(graph: Recording, fields: dict | None = None) -> list:
    """One ``ReceptiveField`` per layer row of ``graph``; ``fields`` from ``propagate(graph)`` if already made."""
    fields = propagate(graph) if fields is None else fields
    out = []
    for row in graph.rows():
        t = row.output
        while isinstance(t, (tuple, list)) and t:
            t = t[0]
        out.append(record(row.name, fields.get(id(t)) if isinstance(t, torch.Tensor) else None))
    return out


def last_feature_map_of(rec: Recording | None, model=None, input_size=None) -> ReceptiveField | None:
    """The receptive field of the last feature map of a recording; with none (an engine that records nothing),
    of a meta recording of ``model`` at ``input_size``."""
    rec = rec if rec is not None else traced(model, input_size).recording
    spatial = [r for r in receptive_fields_of(rec) if r.receptive_field is not None]
    return spatial[-1] if spatial else None


def receptive_fields(model, input_size=None, *, batch: int | None = None,
                     kwargs: dict | None = None) -> ReceptiveFieldProfile:
    """The receptive field of every layer row of ``model`` (a zoo name, a spec or an ``nn.Module``)."""
    t = traced(model, input_size, batch, kwargs)
    return ReceptiveFieldProfile(t.name, tuple(t.inputs.main.shape), tuple(receptive_fields_of(t.recording)))


def zoo_last_feature_maps() -> list:
    """(model name, ReceptiveField of its last feature map) for every zoo model, in ``cnnprofile list`` order."""
    from ...models import list_models

    return [(spec.name, receptive_fields(spec.name).last_feature_map()) for spec in list_models()]


__all__ = [
    "RULES",
    "ReceptiveField",
    "ReceptiveFieldProfile",
    "propagate",
    "receptive_fields",
    "receptive_fields_of",
]
