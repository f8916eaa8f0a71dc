"""Optional columns: join per-row records computed elsewhere onto a profile's rows.

A profile's rows come from an engine; the receptive field and the memory traffic come from the recording of the
same pass (``cnnprofile.record.recorder``), whose rows are the same units with the same names. ``attach`` joins such
records onto the profile by position and name (a mismatch is an error, never a silent shift), fills the
optional ``LayerRecord`` fields of one group (``records.extra``), sums them into the totals and states the
group's convention. ``enrich`` does it for the receptive field, the intensity and the roofline; another group
(training costs, say) is a new set of ``extra`` fields plus a function that calls ``attach``.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Optional, Sequence

from ..errors import CnnprofileError
from ..records import DeviceRoof, LayerRecord, Profile, Totals, arithmetic_intensity, group_fields, merge_rules


def attach(profile: Profile, group: str, names: Sequence[str], values: Sequence[dict], *,
           input_values: Optional[dict] = None, conventions: Optional[dict] = None, **profile_fields) -> Profile:
    """``profile`` with the ``group`` columns of its rows filled from ``values`` (one dict per row after the
    input row, in row order, named ``names``); the input row takes ``input_values``. Totals of the group's
    "sum" fields become the rows' sums, so rows still add up to the totals."""
    rows = profile.layers[1:] if profile.layers and profile.layers[0].kind == "input" else profile.layers
    head = profile.layers[:len(profile.layers) - len(rows)]
    if [r.name for r in rows] != list(names):
        raise CnnprofileError(f"{profile.model}: the {group} records do not line up with the layer rows of engine "
                              f"{profile.engine} ({len(names)} records, {len(rows)} rows)")
    allowed = set(group_fields(LayerRecord, group))
    for v in list(values) + ([input_values] if input_values else []):
        if set(v) - allowed:
            raise ValueError(f"not {group} fields: {sorted(set(v) - allowed)}")
    layers = tuple(replace(r, **(input_values or {})) for r in head) + tuple(
        replace(r, **v) for r, v in zip(rows, values))
    rules = merge_rules(Totals)
    sums = {name: sum(getattr(r, name) or 0 for r in layers)
            for name in group_fields(Totals, group) if rules[name] == "sum"}
    totals = replace(profile.totals, **sums)
    if "arithmetic_intensity" in group_fields(Totals, group):
        totals = replace(totals, arithmetic_intensity=arithmetic_intensity(
            totals.flops, totals.bytes_read, totals.bytes_written))
    stated = replace(profile.conventions, **(conventions or {}))
    return replace(profile, layers=layers, totals=totals, conventions=stated,
                   groups=tuple(dict.fromkeys(profile.groups + (group,))), **profile_fields)


def _rf_values(r) -> dict:
    return dict(receptive_field=r.receptive_field, effective_stride=r.effective_stride,
                effective_padding=r.effective_padding, whole_input=r.whole_input, rf_aligned=r.aligned,
                rf_unknown_ops=r.unknown_ops)


def with_receptive_fields(profile: Profile, rec) -> Profile:
    from .receptive.fields import CONVENTION, propagate, receptive_fields_of, record

    fields = propagate(rec)
    records = receptive_fields_of(rec, fields)
    return attach(profile, "rf", [r.name for r in records], [_rf_values(r) for r in records],
                  input_values=_rf_values(record("input", fields.get(id(rec.input)))),
                  conventions={"receptive_field": CONVENTION})


def with_intensity(profile: Profile, rec, costs: Optional[list] = None) -> Profile:
    from .roofline import INTENSITY_CONVENTION, traffic_of

    t = traffic_of(rec, profile.model, profile.input_shape, profile.dtype, costs)
    rows = profile.layers[1:]
    values = [dict(bytes_read=x.bytes_read, bytes_written=x.bytes_written,
                   arithmetic_intensity=arithmetic_intensity(r.flops, x.bytes_read, x.bytes_written))
              for r, x in zip(rows, t.layers)]
    # The input row is the given tensor: no op reads or writes it there.
    return attach(profile, "intensity", [x.name for x in t.layers], values,
                  input_values=dict(bytes_read=0, bytes_written=0), conventions={"intensity": INTENSITY_CONVENTION})


def with_roofline(profile: Profile, device, fused: bool = False) -> Profile:
    """The roofline columns on ``device`` (a ``bench.peaks.DevicePeak``), from the intensity columns."""
    from .roofline import ROOF_CONVENTION, LayerTraffic, Traffic, roofline

    if "intensity" not in profile.groups:
        raise ValueError("the roofline needs the intensity columns: call with_intensity first")
    rows = profile.layers[1:]
    t = Traffic(profile.model, profile.input_shape, profile.dtype,
                tuple(LayerTraffic(r.name, r.flops, r.bytes_read, r.bytes_written, r.arithmetic_intensity)
                      for r in rows))
    roof = roofline(t, device, memory=not fused)
    values = [dict(bound=b.bound, least_time_s=b.least_time_s) for b in roof.layers]
    dev = DeviceRoof(roof.device, roof.precision, roof.peak_tflops, roof.bandwidth_gbs, roof.ridge, roof.sources)
    return attach(profile, "roofline", [r.name for r in rows], values,
                  input_values=dict(bound="none", least_time_s=0.0), conventions={"roofline": ROOF_CONVENTION},
                  device=dev)


def enrich(profile: Profile, rec, *, rf: bool = False, intensity: bool = False, device=None,
           costs: Optional[list] = None) -> Profile:
    """``profile`` with the receptive-field columns (``rf``), the memory-traffic columns (``intensity``) and the
    roofline columns on ``device`` (a ``devices.DevicePeak``, which implies ``intensity``), all read from
    ``rec``, the recording of the very pass the profile counts (``record.recorder.Recording``); ``costs`` are
    its ops' costs (``counts.op_costs``) where already computed."""
    if rf:
        profile = with_receptive_fields(profile, rec)
    if intensity or device is not None:
        profile = with_intensity(profile, rec, costs)
    if device is not None:
        profile = with_roofline(profile, device)
    return profile
