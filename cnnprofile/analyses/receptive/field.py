"""The field of one tensor (per dimension: which input axis it spans, its size, jump and centre) and how
fields combine; the per-op rules live in ``rf_rules``, the records and the propagation in ``receptive``."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from fractions import Fraction

from ...record.recorder import Node


@dataclass(frozen=True)
class Axis:
    axis: int  # which spatial axis of the model's input (0 = the first after N and C)
    r: Fraction
    j: Fraction
    c: Fraction

    @property
    def lo(self) -> Fraction:
        return self.c - (self.r - 1) / 2


@dataclass(frozen=True)
class Field:
    """The receptive field of one tensor: an ``Axis`` or None for each of its dimensions."""

    dims: tuple
    whole: bool = False
    aligned: bool = True
    unknown: tuple = ()  # ops without a rule on the way here


# --- combining fields --------------------------------------------------------------------------------------

def _union(axes: list) -> tuple:
    """(Axis, aligned) covering every field in ``axes`` (same input axis) for unit 0."""
    first = axes[0]
    if all(a is first or a == first for a in axes):  # identity first: a residual adds one field to itself
        return first, True
    aligned = len({a.j for a in axes}) == 1 and len({a.c for a in axes}) == 1
    lo = min(a.lo for a in axes)
    hi = max(a.lo + a.r - 1 for a in axes)
    return Axis(first.axis, hi - lo + 1, max(a.j for a in axes), (lo + hi) / 2), aligned


def _merge(fields: list, shapes: list, out_shape: tuple, concat_dim: int | None = None) -> Field | None:
    """Fields of inputs broadcast to ``out_shape`` (right-aligned), united dimension by dimension."""
    present = [(f, s) for f, s in zip(fields, shapes) if f is not None]
    if not present:
        return None
    if len(present) == 1 and present[0][1] == out_shape and concat_dim is None:
        return present[0][0]  # one field, nothing broadcast: its own union (most pointwise ops of a network)
    per_dim: list = [[] for _ in out_shape]
    for f, shape in present:
        shift = len(out_shape) - len(shape)
        for i, entry in enumerate(f.dims):
            k = i + shift
            broadcast = shape[i] == 1 and out_shape[k] != 1 and k != concat_dim
            if entry is not None and not broadcast:
                per_dim[k].append(entry)
    dims, aligned = [], all(f.aligned for f, _ in present)
    for k, entries in enumerate(per_dim):
        if not entries:
            dims.append(None)
            continue
        axis, ok = _union(entries)
        aligned &= ok and (k != concat_dim or len(entries) == 1)
        dims.append(axis)
    return Field(tuple(dims), any(f.whole for f, _ in present), aligned,
                 tuple(dict.fromkeys(op for f, _ in present for op in f.unknown)))


def _spatial(field: Field, n: int) -> list:
    """Indices of the last ``n`` dimensions (the ones a kernel of rank n slides over)."""
    return list(range(len(field.dims) - n, len(field.dims)))


def _per_dim(value, n: int) -> list:
    if isinstance(value, (list, tuple)):
        value = list(value)
        return value * n if len(value) == 1 else value
    return [value] * n


def _with(field: Field, updates: dict, whole: bool = False) -> Field:
    dims = list(field.dims)
    for k, axis in updates.items():
        dims[k] = axis
    return replace(field, dims=tuple(dims), whole=field.whole or whole)


# --- rules: each returns the field of the op's outputs -----------------------------------------------------

Rule = Callable[[Node, list], Field | None]
RULES: dict[str, Rule] = {}


def rule(*names: str):
    def register(fn: Rule) -> Rule:
        for name in names:
            RULES[f"aten.{name}"] = fn
        return fn
    return register


def _field(node: Node, fields: list, t) -> Field | None:
    # By identity: tensors compare elementwise, so ``tuple.index`` cannot find one.
    for candidate, f in zip(node.inputs, fields):
        if candidate is t:
            return f
    return None


def _input(node: Node, fields: list, i: int = 0):
    return _field(node, fields, node.args[i])


def _unknown(node, fields):
    """An op with no rule: everything after it is unknown, and the op is named."""
    present = [f for f in fields if f is not None]
    if not present:
        return None
    return Field((None,) * node.outputs[0].dim(), any(f.whole for f in present), all(f.aligned for f in present),
                 tuple(dict.fromkeys([op for f in present for op in f.unknown] + [node.op])))
