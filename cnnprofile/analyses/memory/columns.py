"""The layer table's training columns: per-row backward MACs/FLOPs and saved bytes of one training step.

The step (``cnnprofile.memory(..., train=True)``) keys its costs by unit: a module call, or a run of
functional ops in a module's own ``forward`` between two child calls (``step.Unit``). The table's rows are the
same units, so each row is given the unit it is (``row_units``), never a name shared by several calls: a module
called twice has each call's backward on its own row. The loss is no row; it is reported beside the totals, as
are the costs of module calls the training forward makes and the inference pass does not (GoogLeNet's auxiliary
heads), so that rows + loss + those = the step's totals.
"""
from __future__ import annotations

from collections import defaultdict
from typing import Iterable, Optional, Sequence

from ..enrich import attach
from ...records import Profile, StepCosts, TrainingStep
from .step import LOSS, MODEL, Unit

CONVENTION = ("training columns = one training step (forward in training mode, loss, backward; optimizer {opt}) "
              "with cnnprofile.memory's definitions: Bwd MACs/FLOPs = formulas for the backward ops actually "
              "dispatched (an input gradient nobody needs, as in the first layer or below frozen layers, is not "
              "computed), each given to the row whose forward created the autograd node, per module call (a "
              "module called twice has each call's backward on its own row); Saved = bytes of the tensors "
              "autograd keeps for backward that the row produced (weights and the input excluded; exact sizes, "
              "no allocator rounding). The loss is not a row: it is the line beside the totals. The training "
              "line's forward figures are of the training-mode forward (batch norm computing batch statistics, "
              "dropout drawing masks), so its FLOPs can exceed the FLOPs column (inference mode)")


def row_units(profile: Profile) -> list:
    """The ``Unit`` of each row after the input row, from the profile's call records and rows' call paths."""
    calls = sorted(profile.calls, key=lambda c: c.id)
    seen: dict = defaultdict(int)
    key = {}  # call id -> (name, how-manieth call of that name)
    children: dict = defaultdict(list)
    for c in calls:
        name = c.name or MODEL
        key[c.id] = (name, seen[name])
        seen[name] += 1
        if c.parent is not None:
            children[c.parent].append(c.id)
    units, latest = [], -1  # the latest call started before the row (every call has a leaf row below it)
    for row in profile.layers:
        if row.kind == "input":
            continue
        own = row.call_path[-1]
        # A run of functional ops follows the last child its module started before it.
        before = [c for c in children[own] if c <= latest]
        units.append(Unit(*key[own], key[before[-1]] if before else None))
        latest = max(latest, *row.call_path)
    return units


def _costs(rows: Iterable) -> StepCosts:
    rows = list(rows)
    return StepCosts(*(sum(getattr(r, f) for r in rows) for f in
                       ("forward_macs", "forward_flops", "backward_macs", "backward_flops", "saved_bytes")))


def with_training(profile: Profile, model, *, kwargs: Optional[dict] = None, optimizer: str = "sgd",
                  rules: Optional[Sequence[tuple]] = None) -> Profile:
    """``profile`` of ``model`` (the spec or module it was made from) with the "train" columns of one training
    step at the profile's input and dtype. ``rules``: ("trainable"|"freeze", glob) in order, last match wins."""
    from .api import memory

    report = memory(model, profile.input_shape, dtype=profile.dtype, train=True, optimizer=optimizer,
                    rules=rules, device="cpu", kwargs=kwargs)
    by_unit = {Unit(r.name, r.call, r.after): r for r in report.layers if r.name != LOSS}
    units = row_units(profile)
    values = []
    for u in units:
        r = by_unit.pop(u, None)
        values.append(dict(backward_macs=r.backward_macs if r else 0, backward_flops=r.backward_flops if r else 0,
                           saved_bytes=r.saved_bytes if r else 0))
    # Units with no row: calls only a training forward makes, or functional ops only it runs.
    left = [r for r in by_unit.values()
            if r.forward_macs or r.forward_flops or r.backward_macs or r.backward_flops or r.saved_bytes]
    training = TrainingStep(
        optimizer=report.optimizer, trainable_params=report.trainable_params, frozen_params=report.frozen_params,
        step=StepCosts(report.forward_macs, report.forward_flops, report.backward_macs, report.backward_flops,
                       report.saved_activations_bytes),
        loss=_costs(r for r in report.layers if r.name == LOSS), unmatched=_costs(left),
        unmatched_layers=tuple(dict.fromkeys(r.name for r in left)))
    return attach(profile, "train", [u.name for u in units], values,
                  input_values=dict(backward_macs=0, backward_flops=0, saved_bytes=0),
                  conventions={"training": CONVENTION.format(opt=report.optimizer)}, training=training)
