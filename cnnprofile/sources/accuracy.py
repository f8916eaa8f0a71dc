"""Published ImageNet accuracy of the models we profile, with where each figure comes from.

Zoo models read ``data/accuracy.csv`` (one row per architecture with a figure we could check; a model with
none, such as LeNet-5, is simply absent). Torchvision models read their default weights' metadata. Anything
else has no published accuracy: charts that need one leave it out, the others still show it.

Accuracy is never used to compute operations or parameters: those always come from the analyzer.
"""
from __future__ import annotations

import csv
import functools
from dataclasses import dataclass
from importlib import resources
from typing import Optional

COLUMNS = ("model", "top1", "top5", "resolution", "crops", "source", "note")


@dataclass(frozen=True)
class Accuracy:
    """Top-1/top-5 in percent on the ImageNet-1K validation set, at ``resolution`` pixels."""

    model: str
    top1: float
    top5: Optional[float]
    resolution: Optional[int]
    source: str
    note: str = ""
    crops: str = "single"  # "single", "10-crop", ...: how many crops each image was evaluated on


def _open_csv():
    return resources.files("cnnprofile").joinpath("data/accuracy.csv").open(encoding="utf-8", newline="")


@functools.lru_cache(maxsize=1)
def _rows() -> tuple:
    with _open_csv() as f:
        return tuple(csv.DictReader(f))


def _optional(value: str, kind):
    return kind(value) if value not in ("", None) else None


@functools.lru_cache(maxsize=1)
def zoo_accuracy() -> dict:
    """``{zoo model name: Accuracy}`` from the shipped dataset."""
    return {r["model"]: Accuracy(model=r["model"], top1=float(r["top1"]), top5=_optional(r["top5"], float),
                                 resolution=_optional(r["resolution"], int), source=r["source"],
                                 note=r["note"], crops=r["crops"]) for r in _rows()}


def load_accuracy():
    """The dataset as a pandas DataFrame, one row per zoo architecture, columns ``COLUMNS``."""
    import pandas as pd

    frame = pd.DataFrame(list(_rows()), columns=list(COLUMNS))
    frame["top1"] = frame["top1"].astype(float)
    frame["top5"] = pd.to_numeric(frame["top5"], errors="coerce")
    frame["resolution"] = pd.to_numeric(frame["resolution"], errors="coerce").astype("Int64")
    return frame


def published_accuracy(source) -> Optional[Accuracy]:
    """The published accuracy of a resolved ``ModelSource``, or None when there is none.

    Models built with changed arguments (e.g. another ``num_classes``) are different networks: None.
    """
    if source.kwargs:
        return None
    if source.origin == "zoo":
        return zoo_accuracy().get(source.name)
    if source.origin == "torchvision":
        top1, top5 = source.published.top1, source.published.top5
        if top1 is None:
            return None
        weights = source.weights or "default weights"
        size = source.input_size[1] if source.input_size else None
        return Accuracy(model=source.name, top1=float(top1), top5=None if top5 is None else float(top5),
                        resolution=size, source=f"torchvision weights metadata, {weights}",
                        note="ImageNet-1K val, single centre crop, torchvision's evaluation transforms")
    return None
