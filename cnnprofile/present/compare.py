"""``compare()``: several models side by side, one row each, with their published accuracy where known.

``compare()`` computes frozen records; ``format_comparison()`` only presents them.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Iterable, Optional

from ..sources.accuracy import published_accuracy
from .formatting import axes
from ..errors import InputError
from .formatting import human, human_bytes
from ..records import Conventions
from .tabular import Table, pct, render_table, right_aligned

# Sort orders: sizes ascending (smallest model first), accuracy descending (best first), names alphabetical.
SORT_KEYS = ("macs", "params", "flops", "activation", "top1", "name", "predicted")


@dataclass(frozen=True)
class ComparisonRow:
    model: str
    origin: str  # "zoo", "torchvision", "timm", "file", "module"
    input_shape: tuple
    params: int
    param_bytes: int
    macs: int
    flops: int
    activation_elems: int
    activation_bytes: int
    top1: Optional[float] = None  # published ImageNet-1K top-1 in percent, None when unknown
    top5: Optional[float] = None
    accuracy_source: str = ""
    # The receptive field of the last feature map (the last layer whose units still have a position on the
    # input), per axis when the axes differ; None with no spatial layer.
    receptive_field: int | float | tuple | None = None
    receptive_field_layer: str = ""
    # With a device: the predicted latency of one forward pass at the input's batch (cnnprofile.predict).
    predicted_ms: Optional[float] = None
    predicted_images_per_s: Optional[float] = None


@dataclass(frozen=True)
class Comparison:
    rows: tuple  # of ComparisonRow
    engine: str
    dtype: str
    sort: Optional[str]
    conventions: Conventions = field(default_factory=Conventions)
    predicted: Optional[object] = None  # records.PredictedOn of the predicted column, with a device


def _sort_key(sort: str):
    if sort == "name":
        return lambda r: r.model
    if sort == "top1":
        return lambda r: (r.top1 is None, -(r.top1 or 0.0))
    if sort == "predicted":
        return lambda r: (r.predicted_ms is None, r.predicted_ms or 0.0)
    attr = "activation_bytes" if sort == "activation" else sort
    return lambda r: getattr(r, attr)


def compare(specs: Iterable[str], input_size=None, *, batch: Optional[int] = None, dtype="float32",
            engine: Optional[str] = None, kwargs: Optional[dict] = None, sort: Optional[str] = None,
            device: Optional[str] = None) -> Comparison:
    """Profile every model of ``specs`` (names, ``torchvision:resnet*`` globs, ``file.py:factory``...); with
    ``device`` (a key of ``cnnprofile devices``), each one's predicted latency there, from the same recording."""
    from ..analyzer import analyze
    from ..analyses.receptive.fields import last_feature_map_of
    from ..sources import resolve_models

    if sort is not None and sort not in SORT_KEYS:
        raise InputError(f"unknown sort key {sort!r}; choose one of {', '.join(SORT_KEYS)}")
    if sort == "predicted" and device is None:
        raise InputError("--sort predicted needs --device")
    if device is not None:
        from ..devices import device_by_key
        from ..predict.api import calibration_for, parse_step, with_prediction

        device = device_by_key(device).key if device.lower() != "cpu" else "cpu"
        calibration_for(device)  # refused before any model is built when there is none
        step = parse_step(dtype)
    sources = resolve_models(specs, kwargs)
    if not sources:
        raise InputError("no models to compare")
    rows, conventions, engines = [], Conventions(), []
    for source in sources:
        p, traced = analyze(source, input_size, batch=batch, dtype=dtype, engine=engine)
        if device is not None:
            p = with_prediction(p, traced, device, step)
        acc = published_accuracy(source)
        # A Keras model's channels-last layers are not what the receptive-field rules read: no RF for it.
        last = None if p.channels_last else last_feature_map_of(traced.recording if traced else None, source,
                                                                p.input_shape)
        t = p.totals
        rows.append(ComparisonRow(
            model=source.name, origin=source.origin, input_shape=p.input_shape, params=t.params,
            param_bytes=t.param_bytes, macs=t.macs, flops=t.flops, activation_elems=t.activation_elems,
            activation_bytes=t.activation_bytes, top1=acc.top1 if acc else None, top5=acc.top5 if acc else None,
            accuracy_source=acc.source if acc else "", receptive_field=last.receptive_field if last else None,
            receptive_field_layer=last.name if last else "",
            predicted_ms=t.predicted_s * 1e3 if t.predicted_s else None,
            predicted_images_per_s=p.input_shape[0] / t.predicted_s if t.predicted_s else None))
        conventions, dtype_name = p.conventions, p.dtype
        engines.append(p.engine)
    if sort is not None:
        rows.sort(key=_sort_key(sort))
    return Comparison(rows=tuple(rows), engine=engine or "+".join(dict.fromkeys(engines)), dtype=dtype_name,
                      sort=sort, conventions=conventions, predicted=p.predicted if device is not None else None)


# --- presentation -------------------------------------------------------------------------------------------

HEADERS = ("Model", "Input (NxCxHxW)", "Params", "Param memory", "MACs", "FLOPs", "Activation memory",
           "RF", "Top-1 %", "Top-5 %")


def _cells(r: ComparisonRow, predicted: bool) -> tuple:
    cells = (r.model, "x".join(map(str, r.input_shape)), human(r.params), human_bytes(r.param_bytes), human(r.macs),
             human(r.flops), human_bytes(r.activation_bytes), axes(r.receptive_field), pct(r.top1), pct(r.top5))
    if not predicted:
        return cells
    return cells + (f"{r.predicted_ms:.4g}" if r.predicted_ms else "-",
                    human(r.predicted_images_per_s) if r.predicted_images_per_s else "-")


def _notes(comp: Comparison) -> tuple:
    sources = list(dict.fromkeys(f"{r.model}: {r.accuracy_source}" for r in comp.rows if r.accuracy_source))
    return tuple([f"Top-1/Top-5: published ImageNet-1K accuracy ('-' where none is known or the model was built "
                  f"with changed arguments); sources: {'; '.join(sources)}" if sources else
                  "Top-1/Top-5: no published accuracy is known for these models"]
                 + ["RF: receptive field of the last feature map (the last layer whose units still have a position on "
                    "the input), in input pixels; '-' for a model with no spatial layer"]
                 + ([f"Pred. ms, img/s: predicted on {comp.predicted.device_name} ({comp.predicted.step}) at the "
                     f"input's batch; calibration: {comp.predicted.calibration}"] if comp.predicted else [])
                 + [v for k, v in asdict(comp.conventions).items()
                    if k in ("macs", "flops", "memory", "units") or (k == "predicted" and comp.predicted)])


def _listed(value):
    return list(value) if isinstance(value, tuple) else value


def comparison_table(comp: Comparison) -> Table:
    title = f"Comparison: engine {comp.engine}, {comp.dtype}" + (f", sorted by {comp.sort}" if comp.sort else "")
    predicted = comp.predicted is not None
    headers = HEADERS + (("Pred. ms", "Pred. img/s") if predicted else ())
    return Table(headers=headers, rows=tuple(_cells(r, predicted) for r in comp.rows),
                 align=right_aligned(len(headers), 2),
                 title=title, notes=_notes(comp),
                 records=tuple({**asdict(r), "input_shape": list(r.input_shape),
                                "receptive_field": _listed(r.receptive_field)} for r in comp.rows),
                 flat_records=tuple({**asdict(r), "input_shape": "x".join(map(str, r.input_shape)),
                                     "receptive_field": axes(r.receptive_field) if r.receptive_field else ""}
                                    for r in comp.rows),
                 columns=tuple(f.name for f in fields(ComparisonRow)
                               if predicted or not f.name.startswith("predicted")),
                 meta={"engine": comp.engine, "dtype": comp.dtype, "sort": comp.sort,
                       "conventions": asdict(comp.conventions),
                       **({"predicted": asdict(comp.predicted)} if predicted else {})},
                 records_key="models")


def format_comparison(comp: Comparison, fmt: str = "text") -> str:
    return render_table(comparison_table(comp), fmt)
