"""One job, measured: the function every executor runs in its worker, and the rows it becomes.

The network is built once on the meta device; one recorded pass gives the profile, its receptive fields, its
bytes moved (``analyzer.analyze``) and the kernels a GPU would launch (``analyses.kernels``, stored for latency
predictions), and ``cnnprofile.memory`` predicts the inference peak on that same module at batch 1 and at the
sweep's batch.
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Optional

from ..errors import CnnprofileError, first_line
from .cells import Job
from .records import SweepRow

LAYER_COLUMNS = ("name", "kind", "macs", "flops", "bytes_read", "bytes_written", "activation_bytes")


@dataclass(frozen=True)
class Outcome:
    """What a worker sends back: the measured figures, or the failure's kind and one-line reason."""

    figures: Optional[dict] = None
    failure: str = ""
    reason: str = ""
    seconds: float = 0.0


def tool_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("cnnprofile")
    except PackageNotFoundError:
        return "unknown"


def _rf_text(value) -> str:
    if value is None:
        return ""
    return "x".join(str(v) for v in value) if isinstance(value, tuple) else str(value)


def figures_of(job: Job) -> dict:
    """The figures of one job; raises on a failure (``measure`` classifies it)."""
    from ..analyses.memory import memory
    from ..analyses.memory.replay import peaks
    from ..analyses.memory.targets import get_target
    from ..analyses.views import last_feature_map
    from ..analyzer import analyze
    from ..sources import resolve_model

    source = resolve_model(job.model, json.loads(job.kwargs))
    try:
        if job.reparam:
            from ..sources.deploy import deployed_source

            source = deployed_source(source)
        module = source.build("meta")
    except Exception as e:
        raise _Failed(_kind(e, "build error"), first_line(e, with_type=not isinstance(e, CnnprofileError))) from e
    shape = (1, *job.input_size)
    try:
        # One pass: the rows, the field, the kernels and the inference peaks (its storage log, replayed at
        # each batch; a pass of its own only where the recording's layout cannot be replayed at that batch).
        prof, traced = analyze(module, shape, rf=True, intensity=True, engine="meta", lifetimes=True)
        kernels = _kernels(traced, prof, job.input_size)
        peak_1, peak_n = peaks(traced, get_target("cuda"), (1, job.batch),
                               step=lambda b: memory(module, shape, batch=b).peak_bytes)
    except Exception as e:
        raise _Failed(_kind(e, "trace error"), first_line(e, with_type=True)) from e
    last = last_feature_map(prof.layers)
    rows = [[r.name, r.kind, r.macs, r.flops, r.bytes_read, r.bytes_written, r.activation_bytes] for r in prof.layers]
    return dict(params=prof.totals.params, macs=prof.totals.macs, flops=prof.totals.flops,
                activation_bytes=prof.totals.activation_bytes, peak_bytes_1=peak_1, peak_bytes_batch=peak_n,
                receptive_field=_rf_text(last.receptive_field) if last else "",
                uncounted_ops=json.dumps({u.op: u.count for u in prof.uncounted_ops}, sort_keys=True),
                layers=json.dumps({"columns": list(LAYER_COLUMNS), "rows": rows}, separators=(",", ":")),
                engine=prof.engine, kernels=kernels)


def _kernels(traced, prof, input_size: tuple) -> str:
    """The kernels of the pass just recorded (no second recording), stored for latency predictions."""
    from ..analyses.kernels import kernels_of
    from ..predict.features import arrays_of
    from .kernel_blob import encode_kernels

    arrays = arrays_of(kernels_of(traced.recording), traced.name, tuple(input_size), 1)
    return encode_kernels(arrays, tuple(r.name for r in prof.layers))


def _kind(error: BaseException, otherwise: str) -> str:
    """"out of memory" where the worker's memory limit is the cause, wrapped in another error or not."""
    seen = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        if isinstance(error, MemoryError) or "can't allocate memory" in str(error):
            return "out of memory"
        error = error.__cause__ or error.__context__
    return otherwise


class _Failed(Exception):
    def __init__(self, kind: str, reason: str):
        super().__init__(reason)
        self.kind, self.reason = kind, reason


def measure(job: Job) -> Outcome:
    """Run one job; every exception becomes a failed outcome with its one-line reason."""
    start = time.perf_counter()
    try:
        return Outcome(figures=figures_of(job), seconds=time.perf_counter() - start)
    except _Failed as e:
        return Outcome(failure=e.kind, reason=e.reason, seconds=time.perf_counter() - start)
    except MemoryError:
        return Outcome(failure="out of memory", reason="MemoryError: the worker ran past its memory limit",
                       seconds=time.perf_counter() - start)
    except Exception as e:  # resolving the spec (an unreadable file, say): the model cannot be built
        return Outcome(failure="build error", reason=first_line(e, with_type=True), seconds=time.perf_counter() - start)


def rows_of(job: Job, outcome: Outcome) -> list:
    """One ``SweepRow`` per tag of the job."""
    now = datetime.now(timezone.utc).isoformat(timespec="seconds")
    common = dict(batch=job.batch, input_size=job.size_text, architecture=job.architecture, family=job.family,
                  origin=job.origin, resolution=job.input_size[1] if len(job.input_size) > 1 else None,
                  tool_version=tool_version(), seconds=round(outcome.seconds, 3), finished_at=now,
                  reparam=job.reparam)
    if outcome.figures is not None:
        return [SweepRow(model=job.model, tag=t, status="profiled", **common, **outcome.figures) for t in job.tags]
    reason = " ".join(outcome.reason.split())[:300]
    return [SweepRow(model=job.model, tag=t, status="failed", failure=outcome.failure, reason=reason, **common)
            for t in job.tags]
