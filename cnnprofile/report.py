"""A self-contained HTML report: summary table, Canziani-style charts, conventions, benchmark environment and
every model's layer table, in one file with the charts inlined as SVG (no network, no external files).

``collect`` computes (profiles, published accuracy, benchmark cells); ``render_html`` only presents;
``write_report`` writes atomically, so a failed run never leaves a half-written report behind.
"""
from __future__ import annotations

import glob
import json
import os
import re
from dataclasses import asdict, dataclass
from importlib import resources
from typing import Iterable, Optional, Sequence

from .errors import InputError

DEFAULT_OUTPUT = os.path.join("reports", "zoo.html")
# LeNet-5 is left out of the default report: a 32x32 MNIST network has no ImageNet figure and its 0.3M MACs
# would squeeze the ImageNet models into one corner of every log-scale chart. Name it to include it.
LEFT_OUT_BY_DEFAULT = ("lenet5",)


def default_models() -> list:
    from .models import list_models

    return [m.name for m in list_models() if m.name not in LEFT_OUT_BY_DEFAULT]


@dataclass(frozen=True)
class ReportModel:
    name: str
    origin: str
    profile: object  # records.Profile at batch 1, native input size
    accuracy: object  # accuracy.Accuracy or None
    point: object  # charts.ModelPoint


@dataclass(frozen=True)
class ReportData:
    title: str
    models: tuple
    results: tuple  # every BenchResult read, invalid ones included (they are listed, never charted)
    cells: tuple  # charts.BenchCell: the drawable ones
    ops: str  # "macs" or "flops" on the operations axes
    default_zoo: bool = False  # no models named: the lecture's zoo


def bench_files(patterns: Iterable[str]) -> list:
    """Result files from paths, directories and globs; a pattern that matches nothing is an error."""
    out = []
    for pattern in patterns:
        found = sorted(glob.glob(pattern)) if set("*?[") & set(pattern) else [pattern]
        if not found:
            raise InputError(f"no benchmark result file matches {pattern!r}")
        out += found
    return out


def _profile(source):
    from .analyzer import profile

    return profile(source)


def collect(specs: Sequence[str] = (), bench: Sequence[str] = (), ops: str = "macs",
            title: Optional[str] = None) -> ReportData:
    """Profile ``specs`` (default: the zoo), attach published accuracy and read benchmark results."""
    from .accuracy import published_accuracy
    from .bench.results import read_results
    from .charts import bench_cells, model_point
    from .sources import resolve_models

    models, seen = [], set()
    for source in resolve_models(list(specs) or default_models()):
        if source.name in seen:
            continue
        seen.add(source.name)
        prof = _profile(source)
        acc = published_accuracy(source)
        # Zoo models carry their family; others are grouped by the letters their name starts with.
        family = source.meta.get("family") or re.match(r"[A-Za-z]*", source.name.split(":")[-1]).group()
        models.append(ReportModel(name=source.name, origin=source.origin, profile=prof, accuracy=acc,
                                  point=model_point(prof, acc, family)))
    results = tuple(read_results(bench_files(bench))) if bench else ()
    macs = {m.name: m.profile.totals.macs for m in models}  # the analyzer's figures win over the files'
    default_title = "The lecture's CNN zoo" if not specs else "CNN profile report"
    return ReportData(title=title or default_title, models=tuple(models), results=results,
                      cells=bench_cells(results, macs), ops=ops, default_zoo=not specs)


def charts_svg(data: ReportData) -> list:
    """[(kind, svg text)] for every chart the data allows (benchmark charts only with results)."""
    from .charts import CHARTS, to_svg

    points = [m.point for m in data.models]
    out = []
    for kind in CHARTS.values():
        if kind.needs_bench and not data.cells:
            continue
        out.append((kind, to_svg(kind.draw(points, data.cells, data.ops), salt=kind.name)))
    return out


# --- presentation ---------------------------------------------------------------------------------------------

def _pct(v) -> str:
    return "-" if v is None else f"{v:.2f}"


def _summary(data: ReportData) -> list:
    from .charts import best_throughput
    from .formatting import human, human_bytes

    best = best_throughput(data.cells)
    lat1 = {}
    for c in data.cells:
        if c.batch == 1 and c.latency_ms is not None:
            lat1[c.model] = min(c.latency_ms, lat1.get(c.model, c.latency_ms))
    rows = []
    for m in data.models:
        t, p, a = m.profile.totals, m.profile, m.accuracy
        rows.append({
            "name": m.name, "input": "x".join(map(str, p.input_shape[1:])), "params": human(t.params),
            "macs": human(t.macs), "flops": human(t.flops), "memory": human_bytes(t.activation_bytes),
            "top1": _pct(a.top1) if a else "-", "top5": _pct(a.top5) if a else "-",
            "source": f"{a.source} ({a.crops} crop, {a.resolution}px)" if a else "no published ImageNet figure",
            "note": a.note if a else "",
            "latency": f"{lat1[m.name]:.3g}" if m.name in lat1 else "-",
            "throughput": f"{best[m.name][0]:.4g} (batch {best[m.name][1]})" if m.name in best else "-"})
    return rows


def _layer_tables(data: ReportData) -> list:
    from .formatting import HEADERS, _table_cells
    from .views import lecture_view

    return [{"name": m.name, "headers": HEADERS[:-1] + ["Notes"],
             "rows": _table_cells(lecture_view(m.profile), False)} for m in data.models]


def _bench_rows(data: ReportData) -> list:
    from .formatting import human_bytes

    rows = []
    for r in data.results:
        if r.status == "invalid":
            continue
        lat = r.latency_ms
        rows.append({"model": r.model, "device": r.device_name or r.device, "dtype": r.dtype,
                     "batch": r.batch_size, "status": r.status,
                     "median": f"{lat.median:.3g}" if lat else "-", "p90": f"{lat.p90:.3g}" if lat else "-",
                     "throughput": f"{r.throughput_ips:.4g}" if r.throughput_ips else "-",
                     "memory": human_bytes(r.peak_memory_bytes) if r.peak_memory_bytes else "-",
                     "noisy": "noisy" if r.noisy else "", "error": r.error or ""})
    return rows


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

    from . import __version__ as version_of_package
    from .records import Conventions

    conventions = asdict(data.models[0].profile.conventions) if data.models else asdict(Conventions())
    return _template().render(
        title=data.title, version=version_of_package, summary=_summary(data), has_bench=bool(data.results),
        charts=[{"name": k.name, "caption": k.caption, "svg": Markup(svg)} for k, svg in charts_svg(data)],
        conventions=conventions, environments=_environments(data), bench_rows=_bench_rows(data),
        invalid=[f"{r.model} at batch {r.batch_size}" for r in data.results if r.status == "invalid"],
        layer_tables=_layer_tables(data), ops=data.ops,
        left_out=list(LEFT_OUT_BY_DEFAULT) if data.default_zoo else [])


def write_report(html: str, path: str) -> str:
    from .charts import write_atomic

    if not path.lower().endswith((".html", ".htm")):
        raise InputError(f"cannot write the report to {path!r}: the file name must end in .html")
    write_atomic(path, html.encode("utf-8"))
    return path


def check_writable(path: str) -> None:
    """Fail before any work if ``path``'s directory cannot be created or written."""
    parent = os.path.dirname(os.path.abspath(path)) or "."
    probe = parent
    while not os.path.exists(probe):
        probe = os.path.dirname(probe)
    if os.path.isdir(path):
        raise InputError(f"cannot write {path!r}: it is a directory")
    if not os.path.isdir(probe) or not os.access(probe, os.W_OK | os.X_OK):
        raise InputError(f"cannot write {path!r}: {probe!r} is not a writable directory")
    if os.path.exists(path) and not os.access(path, os.W_OK) and not os.access(parent, os.W_OK):
        raise InputError(f"cannot write {path!r}: permission denied")
