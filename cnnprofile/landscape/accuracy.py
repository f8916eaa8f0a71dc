"""Published accuracy joined to sweep rows by (architecture, pretrained tag, resolution).

- timm: the shipped copy of timm's ``results/results-imagenet.csv`` (``data/timm-results-imagenet.csv``; its
  header names the commit and the licence), keyed by ``architecture.tag`` and ``img_size``.
- torchvision: the weights enum's ``_metrics["ImageNet-1K"]`` (acc@1, acc@5), at the crop size of its transforms.
- the zoo: ``data/accuracy.csv`` (``cnnprofile.sources.accuracy``), where its resolution is the row's.

A row with none keeps its place with ``accuracy=None`` (shown as ``records.UNKNOWN_ACCURACY``).
"""
from __future__ import annotations

import csv
import functools
from importlib import resources
from typing import Optional

from .records import Accuracy, LandscapeRow, SweepRow

TIMM_FILE = "data/timm-results-imagenet.csv"


def _timm_header() -> dict:
    with resources.files("cnnprofile").joinpath(TIMM_FILE).open(encoding="utf-8") as f:
        lines = [line[2:].strip() for line in f if line.startswith("#")]
    return dict(line.split(": ", 1) for line in lines if ": " in line)


@functools.lru_cache(maxsize=1)
def timm_results() -> dict:
    """{(architecture, tag, img_size): Accuracy} from the shipped timm results."""
    commit = _timm_header()["Commit"].split()[0]
    with resources.files("cnnprofile").joinpath(TIMM_FILE).open(encoding="utf-8", newline="") as f:
        rows = csv.DictReader(line for line in f if not line.startswith("#"))
        out = {}
        for r in rows:
            arch, _, tag = r["model"].partition(".")
            source = f"timm results-imagenet.csv @ {commit[:7]}: {r['model']} at {r['img_size']} px"
            out[(arch, tag, int(r["img_size"]))] = Accuracy(top1=float(r["top1"]), top5=float(r["top5"]), source=source)
    return out


def _torchvision(row: SweepRow) -> Optional[Accuracy]:
    from torchvision import models

    try:
        weights = models.get_model_weights(row.architecture)[row.tag]
    except (KeyError, ValueError):
        return None
    crop = weights.transforms().crop_size
    crop = crop[0] if isinstance(crop, (list, tuple)) else crop
    metrics = weights.meta.get("_metrics", {}).get("ImageNet-1K")
    if not metrics or int(crop) != row.resolution:
        return None
    return Accuracy(top1=float(metrics["acc@1"]), top5=float(metrics["acc@5"]),
                    source=f"torchvision weights metadata, {type(weights).__name__}.{weights.name}")


def _zoo(row: SweepRow) -> Optional[Accuracy]:
    from ..sources.accuracy import zoo_accuracy

    acc = zoo_accuracy().get(row.model)
    if acc is None or (acc.resolution is not None and acc.resolution != row.resolution):
        return None
    return Accuracy(top1=acc.top1, top5=acc.top5, source=acc.source)


def accuracy_of(row: SweepRow) -> Optional[Accuracy]:
    """The published accuracy of this architecture, tag and resolution, or None."""
    if not row.tag and row.origin != "zoo":
        return None
    if row.origin == "timm":
        return timm_results().get((row.architecture, row.tag, row.resolution))
    if row.origin == "torchvision":
        return _torchvision(row)
    if row.origin == "zoo":
        return _zoo(row)
    return None


def join(rows: list) -> list:
    return [LandscapeRow(row=r, accuracy=accuracy_of(r)) for r in rows]


def landscape(path: str) -> list:
    """Every row of the store at ``path`` with its published accuracy (``LandscapeRow``)."""
    from .store import read_rows

    return join(read_rows(path))


def landscape_frame(path: str):
    """The store at ``path`` as a pandas DataFrame: the columns of ``records.FLAT_FIELDS``, one row per row."""
    import pandas as pd

    from .records import FLAT_FIELDS

    return pd.DataFrame([r.flat() for r in landscape(path)], columns=list(FLAT_FIELDS))
