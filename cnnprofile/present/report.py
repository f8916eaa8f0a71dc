"""A self-contained HTML report: summary table, Canziani-style charts, conventions, benchmark environment and
every model's layer table, in one file with the charts inlined as SVG (no network, no external files).

``collect`` computes (profiles, published accuracy, benchmark cells; ``lecture.report.collect_lecture`` adds
the lecture's verdicts, decided from the same records); ``render_html`` only presents;
``write_report`` writes atomically, so a failed run never leaves a half-written report behind.
"""
from __future__ import annotations

import glob
import json
import re
from dataclasses import dataclass, field
from functools import partial
from importlib import resources
from typing import TYPE_CHECKING, Iterable, Mapping, Optional, Sequence

from ..errors import InputError
from ..files import check_writable, write_atomic
from .tabular import Table, pct, right_aligned

if TYPE_CHECKING:
    from ..sources.accuracy import Accuracy
    from ..bench.results import BenchResult
    from .charts import BenchCell, ChartData, ModelPoint, Roof
    from ..analyses.receptive.fields import ReceptiveField
    from ..records import Profile

__all__ = ["DEFAULT_OUTPUT", "LECTURE_OUTPUT", "ReportData", "ReportModel", "bench_files", "charts_svg",
           "check_writable", "collect", "default_models", "html_grid", "render_html", "write_report"]

# Defaults go to the current directory, where a user's own output goes: the committed examples in reports/ are
# rewritten only by naming them (reports/regenerate.sh).
DEFAULT_OUTPUT = "cnnprofile-report.html"
LECTURE_OUTPUT = "lecture-comparison.html"
# LeNet-5 is left out of the default report: a 32x32 MNIST network has no ImageNet figure and its 0.3M MACs
# would squeeze the ImageNet models into one corner of every log-scale chart. Name it to include it.
LEFT_OUT_BY_DEFAULT = ("lenet5",)


def default_models() -> list:
    from ..models import list_models

    return [m.name for m in list_models() if m.name not in LEFT_OUT_BY_DEFAULT]


@dataclass(frozen=True)
class ReportModel:
    name: str
    origin: str
    profile: Profile  # at batch 1, native input size
    accuracy: Optional[Accuracy]
    point: ModelPoint
    last_map: Optional[ReceptiveField] = None  # the receptive field of its last feature map


@dataclass(frozen=True)
class ReportData:
    title: str
    models: tuple[ReportModel, ...]
    results: tuple[BenchResult, ...]  # every result read, invalid ones included (they are listed, never charted)
    cells: tuple[BenchCell, ...]  # the drawable ones
    ops: str  # "macs" or "flops" on the operations axes
    default_zoo: bool = False  # no models named: the lecture's zoo
    # One colour per model for every chart of the report, from the model list (then any benchmarked model not in it).
    colors: Mapping[str, str] = field(default_factory=dict)
    verdicts: tuple = ()  # the lecture's verdicts (lecture.verdicts.Verdict), decided from these models' records
    verdict_grid: Optional[dict] = None  # ... as the template draws them (lecture.report.verdict_grid)
    roof: Optional[Roof] = None  # the named device (--device-peak): a roofline chart of every model's layers
    # Per result (in ``results`` order): the roofline lower bound on its latency, in ms, on its own device; None
    # where the device or the model is unknown to us.
    bounds_ms: tuple = ()
    memory: tuple = ()  # of charts.MemoryLine: predicted peaks over batch sizes (charts.memory_lines)
    # Further sections, ready to render: dicts of id, title, note, table (html_grid), svg and caption
    # (the lecture's detection section, lecture.detection.detection_section).
    sections: tuple = ()

    @property
    def chart_data(self) -> ChartData:
        from .charts import chart_data, roof_points

        points = [p for m in self.models if m.profile.device is not None for p in roof_points(m.profile)]
        return chart_data([m.point for m in self.models], self.cells, self.ops, self.colors, self.roof, points,
                          memory=self.memory)


def bench_files(patterns: Iterable[str]) -> list:
    """Result files from paths, directories and globs; a pattern that matches nothing is an error."""
    out = []
    for pattern in patterns:
        found = sorted(glob.glob(pattern)) if set("*?[") & set(pattern) else [pattern]
        if not found:
            raise InputError(f"no benchmark result file matches {pattern!r}")
        out += found
    return out


def _analyze(source, options: dict, device):
    from ..analyzer import analyze

    options = dict(options)
    # The storage lifetimes too: the memory chart's inference lines are read from this same pass.
    return analyze(source, options.pop("input_size", None), device=device, lifetimes=True, **options)


def _bounds(results) -> tuple:
    from ..analyses.roofline import result_bound

    out = []
    for r in results:
        roof = result_bound(r)
        out.append(roof.lower_bound_s * 1e3 if roof else None)
    return tuple(out)


def collect(specs: Sequence[str] = (), bench: Sequence[str] = (), ops: str = "macs",
            title: Optional[str] = None, device: Optional[str] = None, *, input_size=None,
            batch: Optional[int] = None, dtype="float32", kwargs: Optional[dict] = None,
            engine: Optional[str] = None) -> ReportData:
    """Profile ``specs`` (default: the zoo), attach published accuracy and read benchmark results; with a
    ``device`` (a peak-table key such as "h100-sxm"), the roofline of every model's layers on it.

    ``input_size``, ``batch``, ``dtype``, ``kwargs`` and ``engine`` mean what they mean for ``profile()``.
    """
    from ..sources.accuracy import published_accuracy
    from ..bench.results import read_results
    from ..devices import device_by_key
    from .charts import Roof, bench_cells, colour_map, model_point
    from ..analyses.receptive.fields import last_feature_map_of
    from .charts.memory_lines import memory_requests, predict_lines
    from ..sources import resolve_models

    # Results first: a bad result file is refused before minutes of profiling, not after.
    results = tuple(read_results(bench_files(bench))) if bench else ()
    peak = device_by_key(device) if device else None

    models, seen, recorded = [], {}, {}
    options = dict(input_size=input_size, batch=batch, dtype=dtype, engine=engine)
    for source in resolve_models(list(specs) or default_models(), kwargs):
        if source.name in seen:
            continue
        seen[source.name] = source
        # One pass: the rows, the roofline, the receptive field and the memory chart's inference peaks.
        prof, traced = _analyze(source, options, peak)
        if traced is not None:
            recorded[source.name] = traced
        acc = published_accuracy(source)
        # Zoo models carry their family; others are grouped by the letters their name starts with.
        family = ((source.family if source.origin == "zoo" else "")
                  or re.match(r"[A-Za-z]*", source.name.split(":")[-1]).group())
        models.append(ReportModel(name=source.name, origin=source.origin, profile=prof, accuracy=acc,
                                  point=model_point(prof, acc, family),
                                  last_map=last_feature_map_of(traced.recording if traced else None, source,
                                                               prof.input_shape)))
    macs = {m.name: m.profile.totals.macs for m in models}  # the analyzer's figures win over the files'
    default_title = "The lecture's CNN zoo" if not specs else "CNN profile report"
    cells = bench_cells(results, macs)
    roof = None
    if models and models[0].profile.device is not None:
        d = models[0].profile.device
        roof = Roof(d.name, d.precision, d.peak_tflops, d.bandwidth_gbs, models[0].profile.input_shape[0])
    memory = predict_lines(memory_requests(list(seen), results), seen, recorded)
    return ReportData(title=title or default_title, models=tuple(models), results=results, cells=cells, ops=ops,
                      default_zoo=not specs, memory=memory,
                      colors=colour_map([m.name for m in models] + [c.model for c in cells]), roof=roof,
                      bounds_ms=_bounds(results))


def charts_svg(data: ReportData) -> list:
    """[(kind, svg text)] for every chart the data allows (benchmark charts only with results, power charts only
    with power readings), all drawn from one ChartData and so with one colour per model."""
    from .charts import CHARTS, svgs

    chart_data = data.chart_data
    kinds = [kind for kind in CHARTS.values() if kind.drawable(chart_data)]
    return list(zip(kinds, svgs([(partial(kind.draw, chart_data), kind.name) for kind in kinds])))


# --- presentation ---------------------------------------------------------------------------------------------

SUMMARY_HEADERS = ("Model", "Input (CxHxW)", "Params", "MACs", "FLOPs", "Activation memory", "RF (last map)",
                   "Top-1 %", "Top-5 %", "Accuracy source")
BENCH_HEADERS = ("Model", "Device", "dtype", "Batch", "Status", "Median (ms)", "p90 (ms)", "Images/s", "Peak memory",
                 "")
# With results on a device of the peak table: the roofline lower bound on the latency and median / bound.
ROOF_HEADERS = ("Roofline bound (ms)", "Measured / bound")


def _summary(data: ReportData) -> Table:
    from .charts import best_throughput
    from .formatting import axes, human, human_bytes

    best = best_throughput(data.cells)
    lat1 = {}
    for c in data.cells:
        if c.batch == 1 and c.latency_ms is not None:
            lat1[c.model] = min(c.latency_ms, lat1.get(c.model, c.latency_ms))
    bench = bool(data.results)
    rows, notes = [], []
    for m in data.models:
        t, p, a = m.profile.totals, m.profile, m.accuracy
        rows.append((m.name, "x".join(map(str, p.input_shape[1:])), human(t.params), human(t.macs), human(t.flops),
                     human_bytes(t.activation_bytes), axes(m.last_map.receptive_field) if m.last_map else "-",
                     pct(a.top1 if a else None), pct(a.top5 if a else None),
                     f"{a.source} ({a.crops} crop, {a.resolution}px)" if a else "no published ImageNet figure")
                    + ((f"{lat1[m.name]:.3g}" if m.name in lat1 else "-",
                        f"{best[m.name][0]:.4g} (batch {best[m.name][1]})" if m.name in best else "-")
                       if bench else ()))
        notes.append(a.note if a else "")
    headers = SUMMARY_HEADERS + (("Latency, batch 1 (ms)", "Best throughput (img/s)") if bench else ())
    align = right_aligned(len(SUMMARY_HEADERS), 2, 9) + (("right", "right") if bench else ())
    # The per-model accuracy notes ride along as records: the HTML shows each as its source cell's hover text.
    return Table(headers=headers, rows=tuple(rows), align=align, records=tuple({"note": n} for n in notes))


def _layer_tables(data: ReportData) -> list:
    from .formatting import HEADERS, layer_cells
    from ..analyses.views import lecture_view

    return [{"name": m.name, "headers": HEADERS[:-1] + ["Notes"],
             "rows": layer_cells(lecture_view(m.profile), channels_last=m.profile.channels_last)} for m in data.models]


def _bench_rows(data: ReportData) -> Table:
    from .formatting import human_bytes

    rows = []
    bounded = any(b is not None for b in data.bounds_ms)
    for r, bound in zip(data.results, data.bounds_ms or (None,) * len(data.results)):
        if r.status == "invalid":
            continue
        lat = r.latency_ms
        roof = (f"{bound:.3g}" if bound else "-", f"{lat.median / bound:.3g}" if bound and lat else "-")
        rows.append((r.model, r.device_name or r.device, r.dtype, r.batch_size, r.status,
                     f"{lat.median:.3g}" if lat else "-", f"{lat.p90:.3g}" if lat else "-")
                    + (roof if bounded else ())
                    + (f"{r.throughput_ips:.4g}" if r.throughput_ips else "-",
                       human_bytes(r.peak_memory_bytes) if r.peak_memory_bytes else "-",
                       " ".join(x for x in ("noisy" if r.noisy else "", r.error or "") if x)))
    headers = BENCH_HEADERS[:7] + (ROOF_HEADERS if bounded else ()) + BENCH_HEADERS[7:]
    align = ("left",) * 3 + ("right", "left") + ("right",) * (len(headers) - 6) + ("left",)
    return Table(headers=headers, rows=tuple(rows), align=align)


def html_grid(table: Table, hover_column: Optional[int] = None, css: Optional[dict] = None) -> dict:
    """A Table as the template draws it: (text, css class, hover text) per cell; right-aligned columns are "num".

    ``hover_column``: the column whose cells show the row's record "note" on hover; ``css``: extra classes by column.
    """
    classes = [(css or {}).get(i) or ("num" if table.alignment(i) == "right" else "")
               for i in range(len(table.headers))]
    notes = [r.get("note", "") for r in table.records] or [""] * len(table.rows)
    return {"headers": list(zip(table.headers, classes)),
            "rows": [[(cell, classes[i], notes[n] if i == hover_column else "") for i, cell in enumerate(row)]
                     for n, row in enumerate(table.rows)]}


def _environments(data: ReportData) -> list:
    seen: dict = {}
    for r in data.results:
        env = {"device": r.device_name or r.device, "dtype": r.dtype, "autocast": r.autocast,
               "channels_last": r.channels_last, "compile": r.compile, "cuda_graphs": r.cuda_graphs,
               "peak memory measured as": r.peak_memory_kind, **(r.env or {})}
        seen.setdefault(json.dumps(env, sort_keys=True, default=str), env)
    return [{k: "-" if v is None else str(v) for k, v in env.items()} for env in seen.values()]


def _template():
    import jinja2

    text = resources.files("cnnprofile").joinpath("templates/report.html").read_text(encoding="utf-8")
    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True,
                             lstrip_blocks=True)
    return env.from_string(text)


def render_html(data: ReportData) -> str:
    """The report as one HTML document."""
    from markupsafe import Markup

    from .. import __version__ as version_of_package
    from ..records import Conventions

    conventions = data.models[0].profile.conventions.stated() if data.models else Conventions().stated()
    return _template().render(
        title=data.title, version=version_of_package, has_bench=bool(data.results),
        summary=html_grid(_summary(data), hover_column=SUMMARY_HEADERS.index("Accuracy source"),
                      css={SUMMARY_HEADERS.index("Accuracy source"): "src"}),
        charts=[{"name": k.name, "caption": k.caption, "svg": Markup(svg)} for k, svg in charts_svg(data)],
        conventions=conventions, environments=_environments(data), bench_rows=html_grid(_bench_rows(data)),
        invalid=[f"{r.model} at batch {r.batch_size}" for r in data.results if r.status == "invalid"],
        layer_tables=_layer_tables(data), ops=data.ops, verdicts=data.verdict_grid,
        sections=[{**s, "svg": Markup(s["svg"])} for s in data.sections],
        left_out=list(LEFT_OUT_BY_DEFAULT) if data.default_zoo else [])


def write_report(html: str, path: str) -> str:
    if not path.lower().endswith((".html", ".htm")):
        raise InputError(f"cannot write the report to {path!r}: the file name must end in .html")
    write_atomic(path, html.encode("utf-8"))
    return path

