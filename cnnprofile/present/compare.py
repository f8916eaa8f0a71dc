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
SORT_KEYS = ("macs", "params", "flops", "activation", "top1", "name")


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


@dataclass(frozen=True)
class Comparison:
    rows: tuple  # of ComparisonRow
    engine: str
    dtype: str
    sort: Optional[str]
    conventions: Conventions = field(default_factory=Conventions)


def _sort_key(sort: str):
    if sort == "name":
        return lambda r: r.model
    if sort == "top1":
        return lambda r: (r.top1 is None, -(r.top1 or 0.0))
    attr = "activation_bytes" if sort == "activation" else sort
    return lambda r: getattr(r, attr)


def compare(specs: Iterable[str], input_size=None, *, batch: Optional[int] = None, dtype="float32",
            engine: Optional[str] = None, kwargs: Optional[dict] = None, sort: Optional[str] = None) -> Comparison:
    """Profile every model of ``specs`` (names, ``torchvision:resnet*`` globs, ``file.py:factory``...)."""
    from ..analyzer import analyze
    from ..analyses.receptive.fields import last_feature_map_of
    from ..sources import resolve_models

    if sort is not None and sort not in SORT_KEYS:
        raise InputError(f"unknown sort key {sort!r}; choose one of {', '.join(SORT_KEYS)}")
    sources = resolve_models(specs, kwargs)
    if not sources:
        raise InputError("no models to compare")
    rows, conventions, engines = [], Conventions(), []
    for source in sources:
        p, traced = analyze(source, input_size, batch=batch, dtype=dtype, engine=engine)
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
            receptive_field_layer=last.name if last else ""))
        conventions, dtype_name = p.conventions, p.dtype
        engines.append(p.engine)
    if sort is not None:
        rows.sort(key=_sort_key(sort))
    return Comparison(rows=tuple(rows), engine=engine or "+".join(dict.fromkeys(engines)), dtype=dtype_name,
                      sort=sort, conventions=conventions)


# --- presentation -------------------------------------------------------------------------------------------

HEADERS = ("Model", "Input (NxCxHxW)", "Params", "Param memory", "MACs", "FLOPs", "Activation memory",
           "RF", "Top-1 %", "Top-5 %")


def _cells(r: ComparisonRow) -> tuple:
    return (r.model, "x".join(map(str, r.input_shape)), human(r.params), human_bytes(r.param_bytes), human(r.macs),
            human(r.flops), human_bytes(r.activation_bytes), axes(r.receptive_field), pct(r.top1), pct(r.top5))


def _notes(comp: Comparison) -> tuple:
    sources = list(dict.fromkeys(f"{r.model}: {r.accuracy_source}" for r in comp.rows if r.accuracy_source))
    return tuple([f"Top-1/Top-5: published ImageNet-1K accuracy ('-' where none is known or the model was built "
                  f"with changed arguments); sources: {'; '.join(sources)}" if sources else
                  "Top-1/Top-5: no published accuracy is known for these models"]
                 + ["RF: receptive field of the last feature map (the last layer whose units still have a position on "
                    "the input), in input pixels; '-' for a model with no spatial layer"]
                 + [v for k, v in asdict(comp.conventions).items() if k in ("macs", "flops", "memory", "units")])


def _listed(value):
    return list(value) if isinstance(value, tuple) else value


def comparison_table(comp: Comparison) -> Table:
    title = f"Comparison: engine {comp.engine}, {comp.dtype}" + (f", sorted by {comp.sort}" if comp.sort else "")
    return Table(headers=HEADERS, rows=tuple(_cells(r) for r in comp.rows), align=right_aligned(len(HEADERS), 2),
                 title=title, notes=_notes(comp),
                 records=tuple({**asdict(r), "input_shape": list(r.input_shape),
                                "receptive_field": _listed(r.receptive_field)} for r in comp.rows),
                 flat_records=tuple({**asdict(r), "input_shape": "x".join(map(str, r.input_shape)),
                                     "receptive_field": axes(r.receptive_field) if r.receptive_field else ""}
                                    for r in comp.rows),
                 columns=tuple(f.name for f in fields(ComparisonRow)),
                 meta={"engine": comp.engine, "dtype": comp.dtype, "sort": comp.sort,
                       "conventions": asdict(comp.conventions)},
                 records_key="models")


def format_comparison(comp: Comparison, fmt: str = "text") -> str:
    return render_table(comparison_table(comp), fmt)
