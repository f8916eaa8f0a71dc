"""Benchmark result records and their JSON-lines files: the contract between ``bench`` and ``report``.

One line per (model, batch size) cell, appended and fsynced as soon as the cell is done, so an interrupted
sweep loses nothing and appending to an existing file never touches its earlier lines.
"""
from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field, fields
from typing import Iterable, Optional, Union

from ..errors import InputError
from ..files import check_directory

SCHEMA = 1
STATUSES = ("ok", "oom", "invalid", "error")


@dataclass(frozen=True)
class Latency:
    """Per-iteration latency statistics in milliseconds (one forward pass of the whole batch)."""

    median: float
    p90: float
    p99: float
    iqr: float
    mean: float
    min: float
    n: int


@dataclass(frozen=True)
class BenchResult:
    """One (model, batch size) cell. ``status`` "oom"/"error" cells have null timings; "invalid" cells
    measured above the device's roofline and must never be presented as results."""

    model: str
    batch_size: int
    status: str
    device: str  # "cuda" or "cpu"
    device_name: str
    dtype: str
    autocast: bool = False
    channels_last: bool = False
    compile: bool = False
    cuda_graphs: bool = False
    train: bool = False  # a full training step was timed (files written before: always inference)
    optimizer: Optional[str] = None  # with train: the optimizer stepped (none, sgd, sgd-momentum, adam, adamw)
    error: Optional[str] = None
    latency_ms: Optional[Latency] = None
    noisy: bool = False
    throughput_ips: Optional[float] = None
    # Average board power (W) over the throughput window and energy per image (J) over the same window; None where
    # the device does not report power (CPUs, GPUs without NVML power readings) and in files written before.
    power_w: Optional[float] = None
    energy_per_image_j: Optional[float] = None
    peak_memory_bytes: Optional[int] = None
    peak_memory_kind: Optional[str] = None  # "cuda_max_allocated", "rss_delta" or None
    # The predicted peak of the timed step (cnnprofile.memory for the result's device, dtype/autocast, batch and
    # step) when predicted_memory_kind is "peak"; files written before carry no kind, and their figure was the
    # activations written in one forward pass plus the weights.
    predicted_memory_bytes: Optional[int] = None
    predicted_memory_kind: Optional[str] = None
    prediction_error: Optional[str] = None  # why no peak was predicted (the cell was timed anyway)
    flops_per_image: Optional[int] = None
    macs_per_image: Optional[int] = None
    train_flops_per_image: Optional[int] = None  # with train: forward + backward FLOPs per image of the step
    params: Optional[int] = None
    achieved_tflops: Optional[float] = None
    peak_tflops: Optional[float] = None
    pct_of_peak: Optional[float] = None
    peak_precision: Optional[str] = None  # the precision whose peak is used: fp32, tf32, fp16 or bf16
    warmup_iters: Optional[int] = None
    warmup_stable: Optional[bool] = None  # False: warm-up hit its bound before timings settled
    throughput_iters: Optional[int] = None
    # Average board power (W) over the throughput window and energy per image (J); None where not reported.
    power_w: Optional[float] = None
    energy_per_image_j: Optional[float] = None
    env: dict = field(default_factory=dict)
    schema: int = SCHEMA

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def to_dict(self) -> dict:
        d = asdict(self)
        # "schema" first so a reader can check it before anything else.
        return {"schema": d.pop("schema"), **d}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=False, allow_nan=False)

    @classmethod
    def from_dict(cls, d: dict) -> "BenchResult":
        if d.get("schema") != SCHEMA:
            raise ValueError(f"unsupported schema {d.get('schema')!r} (expected {SCHEMA})")
        known = {f.name for f in fields(cls)}
        kwargs = {k: v for k, v in d.items() if k in known}  # newer writers may add keys; ignore them
        if kwargs.get("latency_ms") is not None:
            kwargs["latency_ms"] = Latency(**kwargs["latency_ms"])
        if kwargs.get("status") not in STATUSES:
            raise ValueError(f"unknown status {kwargs.get('status')!r}")
        return cls(**kwargs)

    @classmethod
    def from_json(cls, line: str) -> "BenchResult":
        return cls.from_dict(json.loads(line))


def prepare_output(path: Union[str, os.PathLike]) -> str:
    """Make sure results can be appended to ``path`` before any model runs; one-line error if not.

    An existing file is kept as it is; if its last line was cut short, the next result starts on a new line.
    """
    path = os.fspath(path)
    if os.path.isdir(path):
        raise InputError(f"output {path!r} is a directory; give a file name such as {path.rstrip('/')}/bench.jsonl")
    check_directory(path)
    try:
        with open(path, "ab+") as f:
            if f.tell() > 0:
                f.seek(-1, os.SEEK_END)
                if f.read(1) != b"\n":
                    f.write(b"\n")
    except OSError as e:
        raise InputError(f"cannot write benchmark results to {path!r}: {e.strerror or e}") from None
    return path


def append_result(path: Union[str, os.PathLike], result: BenchResult) -> None:
    """Append one line and make it durable before returning."""
    line = result.to_json() + "\n"
    with open(path, "a", encoding="utf-8") as f:
        f.write(line)
        f.flush()
        os.fsync(f.fileno())


def read_results(paths: Union[str, os.PathLike, Iterable[Union[str, os.PathLike]]]) -> list[BenchResult]:
    """Every result in the given JSON-lines files, in file order. A directory means its ``*.jsonl`` files.

    A line cut short by an interrupted write (it starts as every result does, ``{"schema"``, and is not valid JSON)
    is skipped; any other line that is not a result (a file of another kind: CSV, Python, plain text) is an error
    naming the file and line.
    """
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    files = []
    for p in paths:
        p = os.fspath(p)
        if os.path.isdir(p):
            files += sorted(os.path.join(p, n) for n in os.listdir(p) if n.endswith(".jsonl"))
        else:
            files.append(p)
    out: list[BenchResult] = []
    for path in files:
        try:
            with open(path, encoding="utf-8") as f:
                lines = f.read().split("\n")
        except OSError as e:
            raise InputError(f"cannot read benchmark results {path!r}: {e.strerror or e}") from None
        for i, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except ValueError as e:
                if _cut_short(line):
                    continue
                raise InputError(f"{path}:{i}: not a benchmark result (not a JSON line: {e})") from None
            try:
                if not isinstance(record, dict):
                    raise ValueError(f"a JSON {type(record).__name__}, not an object")
                out.append(BenchResult.from_dict(record))
            except (ValueError, TypeError) as e:
                raise InputError(f"{path}:{i}: not a benchmark result ({e})") from None
    return out


def _cut_short(line: str) -> bool:
    """A result line an interrupted write left unfinished: it begins as ``to_json`` begins every line."""
    return line.lstrip().startswith('{"schema"') and not line.rstrip().endswith("}")
