"""Ways of grouping a profile's rows. Every view partitions the finest rows, so its rows add up to the totals."""
from __future__ import annotations

from dataclasses import replace
from typing import Iterable, Optional

from ..records import LayerRecord, Profile, arithmetic_intensity, merge_rules

# Rows of these kinds start a row of the lecture's table; everything else folds into the row before it.
ANCHORS = ("input", "conv", "pool", "fc")


def _sum(name: str, rows: list, merged: dict):
    values = [getattr(r, name) for r in rows if getattr(r, name) is not None]
    return sum(values) if values else None


def _last(name: str, rows: list, merged: dict):
    # The last row's output, passing over rows that only relabel it (a flatten or view folded into a
    # pooling row, an eval-mode dropout): they neither compute nor write anything.
    doing = [r for r in rows if r.flops or r.macs or r.activation_elems or r.kind == "input"]
    return getattr((doing or rows)[-1], name)


def _intensity(name: str, rows: list, merged: dict):
    if merged.get("bytes_read") is None:
        return None
    return arithmetic_intensity(sum(r.flops for r in rows), merged["bytes_read"], merged["bytes_written"])


def _dominant(name: str, rows: list, merged: dict):
    # The bound of the parts that take most of the merged row's least time.
    time: dict = {}
    for r in rows:
        if r.bound is not None:
            time[r.bound] = time.get(r.bound, 0.0) + (r.least_time_s or 0.0)
    spent = {k: v for k, v in time.items() if k != "none"}
    return max(spent, key=spent.get) if spent else ("none" if time else None)


# How a view rolls the optional columns of several rows into one (``records.extra``'s ``merge``). Rules run
# in field order, so a rule may read fields merged before it (the intensity reads the summed bytes).
MERGE_RULES = {"sum": _sum, "last": _last, "intensity": _intensity, "dominant": _dominant}


def merge(rows: list, lead: LayerRecord, **fields) -> LayerRecord:
    """One row standing for ``rows``; ``lead`` gives the identity, numbers are summed, optional columns are
    merged by their declared rule."""
    merged: dict = {}
    for name, rule in merge_rules().items():
        merged[name] = MERGE_RULES[rule](name, rows, merged)
    return replace(
        lead,
        params=sum(r.params for r in rows), bias_params=sum(r.bias_params for r in rows),
        macs=sum(r.macs for r in rows), flops=sum(r.flops for r in rows),
        activation_elems=sum(r.activation_elems for r in rows),
        activation_bytes=sum(r.activation_bytes for r in rows),
        uncounted_ops=tuple(dict.fromkeys(op for r in rows for op in r.uncounted_ops)), **{**merged, **fields})


def _groups(rows: Iterable[LayerRecord], starts_group) -> list:
    groups: list[list] = []
    for row in rows:
        if not groups or starts_group(row, groups[-1]):
            groups.append([row])
        else:
            groups[-1].append(row)
    return groups


def lecture_view(profile: Profile) -> tuple:
    """One row for the input and for each convolution, pooling and fully connected layer (the lecture's tables)."""
    def starts(row, group):
        return row.kind in ANCHORS or group[0].kind == "input"

    return tuple(merge(g, g[0]) for g in _groups(profile.layers, starts))


def depth_view(profile: Profile, depth: int) -> tuple:
    """Roll every row up to its enclosing module call at ``depth`` (0 = the whole model)."""
    calls = {c.id: c for c in profile.calls}

    def key(row):
        # The row's ancestor (or owner) at ``depth``; rows owned by shallower calls stand alone.
        return row.call_path[depth] if len(row.call_path) > depth else None

    def starts(row, group):
        return key(row) is None or key(row) != key(group[0])

    out = []
    for g in _groups(profile.layers, starts):
        k = key(g[0])
        if k is None or (len(g) == 1 and g[0].depth == depth):
            out.append(merge(g, g[0]))
        else:
            c = calls[k]
            out.append(merge(g, g[0], name=c.name or "(model)", type=c.type, kind="block", kernel_size=(),
                             out_features=0, variant="", depth=c.depth, call_path=g[0].call_path[:depth + 1],
                             output_shape=c.output_shape))
    return tuple(out)


def without_biases(profile: Profile) -> Profile:
    """The lecture's parameter column: weights only, biases left out (rows and totals alike)."""
    t = profile.totals
    bias_bytes = t.bias_params * profile.element_size
    return replace(
        profile, layers=tuple(replace(r, params=r.params - r.bias_params, bias_params=0) for r in profile.layers),
        totals=replace(t, params=t.params - t.bias_params, bias_params=0, param_bytes=t.param_bytes - bias_bytes),
        conventions=replace(profile.conventions,
                            params="parameters are weights only: biases left out, as in the lecture's tables"))


def select_view(profile: Profile, *, all_layers: bool = False, depth: Optional[int] = None) -> tuple:
    if depth is not None:
        return depth_view(profile, depth)
    return profile.layers if all_layers else lecture_view(profile)


def last_feature_map(rows) -> Optional[LayerRecord]:
    """The last row whose units still have a position on the input (a receptive-field number), if any."""
    spatial = [r for r in rows if r.kind != "input" and r.receptive_field is not None]
    return spatial[-1] if spatial else None
