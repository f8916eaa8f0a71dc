"""The landscape's records: what a sweep measures for one (model, pretrained tag, input size, batch), and the
same row joined with its published accuracy. Each record owns its schema; the store's columns are its fields.

``SCHEMA_VERSION`` changes whenever a field is added, removed or changes meaning; a store written under
another version is refused rather than read wrongly (see ``landscape.store``).
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields
from typing import Literal, Optional

SCHEMA_VERSION = 3  # 2: the reparam column, part of the key; 3: the kernels column

Status = Literal["profiled", "failed"]
# Why a cell failed: the builder raised, the pass could not run, the cell ran past --timeout, the worker died
# (a signal: a segfault or the kernel's OOM killer), or the worker ran out of its bounded memory.
FailureKind = Literal["", "build error", "trace error", "timeout", "worker crashed", "out of memory"]


@dataclass(frozen=True)
class SweepRow:
    """One profiled (or failed) cell. Sizes are per sample (C x H x W); byte figures are float32 on the
    modelled device (``cnnprofile.memory``'s default, CUDA's allocator)."""

    model: str  # the spec that resolves to it again: "timm:resnet50", "torchvision:vgg16", "alexnet", "f.py:g"
    tag: str  # the pretrained tag ("a1_in1k", "IMAGENET1K_V2"); "" for a size asked for with --input
    input_size: str  # "3x224x224"
    batch: int  # the batch of ``peak_bytes_batch``
    status: Status
    failure: FailureKind = ""
    reason: str = ""  # one line, for a failed cell
    architecture: str = ""  # timm's architecture / torchvision's builder name
    family: str = ""
    origin: str = ""
    resolution: Optional[int] = None  # H of the input, the resolution accuracy tables are keyed by
    params: Optional[int] = None
    macs: Optional[int] = None
    flops: Optional[int] = None
    activation_bytes: Optional[int] = None  # every tensor written in one pass at batch 1
    peak_bytes_1: Optional[int] = None  # predicted inference peak at batch 1
    peak_bytes_batch: Optional[int] = None  # ... and at ``batch``
    receptive_field: str = ""  # of the last feature map: "427" or "427x395"; "" when it has none
    uncounted_ops: str = ""  # JSON {op: count}
    layers: str = ""  # JSON: {"columns": [...], "rows": [[...], ...]}, per-layer FLOPs and bytes moved
    engine: str = ""
    tool_version: str = ""
    seconds: Optional[float] = None  # wall time of the cell in its worker
    finished_at: str = ""  # UTC, ISO 8601
    reparam: bool = False  # profiled in its deployed form (``sources.deploy``: re-parameterised, norms folded)
    kernels: str = ""  # the launched kernels at batch 1, what a latency prediction reads (``landscape.kernel_blob``)

    @property
    def key(self) -> tuple:
        return (self.model, self.tag, self.input_size, self.batch, self.reparam)

    @property
    def gmacs(self) -> Optional[float]:
        return None if self.macs is None else self.macs / 1e9


KEY = ("model", "tag", "input_size", "batch", "reparam")
ROW_FIELDS = tuple(f.name for f in fields(SweepRow))
INTEGER_FIELDS = {"batch", "resolution", "params", "macs", "flops", "activation_bytes", "peak_bytes_1",
                  "peak_bytes_batch", "reparam"}


def layer_columns(layers_json: str) -> list:
    """The per-layer table of a row as a list of dicts (empty for a failed row)."""
    if not layers_json:
        return []
    table = json.loads(layers_json)
    return [dict(zip(table["columns"], r)) for r in table["rows"]]


@dataclass(frozen=True)
class Accuracy:
    """A published ImageNet-1K top-1/top-5 (percent) and where it is published."""

    top1: float
    top5: Optional[float]
    source: str


@dataclass(frozen=True)
class LandscapeRow:
    """A sweep row with its published accuracy, or ``accuracy_source`` saying that none is known."""

    row: SweepRow
    accuracy: Optional[Accuracy]

    def flat(self) -> dict:
        """Every column of the row, then top1, top5 and accuracy_source ("unknown: ..." when there is none)."""
        out = asdict(self.row)
        acc = self.accuracy
        out["top1"] = acc.top1 if acc else None
        out["top5"] = acc.top5 if acc else None
        out["accuracy_source"] = acc.source if acc else UNKNOWN_ACCURACY
        return out


UNKNOWN_ACCURACY = "unknown: no published ImageNet-1K result for this model, tag and resolution"
FLAT_FIELDS = ROW_FIELDS + ("top1", "top5", "accuracy_source")
