"""The chart registry: every chart kind, what it needs and its caption. Every kind draws ``draw(data) -> Figure``."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Literal

from ...errors import InputError
from . import bench_charts as b
from . import model_charts as m
from . import roofline_chart as r
from .data import ChartData

Needs = Literal["profiles", "memory", "bench", "power", "device"]


@dataclass(frozen=True)
class ChartKind:
    name: str
    draw: Callable[[ChartData], object]  # -> matplotlib Figure
    # "memory": memory predictions or benchmark results; "bench": benchmark results; "power": results that carry a
    # power reading; "device": a named device
    needs: Needs
    caption: str

    @property
    def needs_bench(self) -> bool:
        return self.needs in ("bench", "power")

    def drawable(self, data: ChartData) -> bool:
        """Whether ``data`` holds what this chart needs (a report draws only those that it does)."""
        if self.needs == "power":
            return data.has_power
        if self.needs == "device":
            return data.roof is not None and bool(data.roof_points)
        if self.needs == "memory":
            return bool(data.memory) or bool(data.cells)
        return bool(data.cells) or self.needs == "profiles"


CHARTS = {k.name: k for k in (
    ChartKind("accuracy-vs-ops", m.accuracy_vs_ops, "profiles",
              "Top-1 accuracy against operations per image; bubble area proportional to parameters "
              "(after Canziani, Paszke and Culurciello 2016, Fig. 2)."),
    ChartKind("accuracy-bars", m.accuracy_bars, "profiles", "Published top-1 accuracy per model."),
    ChartKind("accuracy-density", m.accuracy_density, "profiles",
              "Top-1 accuracy per million parameters: how efficiently each model uses its parameters."),
    ChartKind("ops-vs-params", m.ops_vs_params, "profiles",
              "Operations against parameters for every model, with or without a published accuracy."),
    ChartKind("roofline", r.roofline, "device",
              "Roofline: every layer at its arithmetic intensity under the named device's memory and compute roofs "
              "(log-log); a layer left of the ridge is limited by memory traffic, not arithmetic."),
    ChartKind("latency-vs-batch", b.latency_vs_batch, "bench", "Median latency per batch."),
    ChartKind("throughput-vs-batch", b.throughput_vs_batch, "bench", "Images per second."),
    ChartKind("memory-vs-batch", b.memory_vs_batch, "memory",
              "Peak memory against batch size: the predicted peak of each model's step as a line (cnnprofile.memory; "
              "a training step where the results timed one), the peak measured during the timed runs as points "
              "where benchmark results are given; x marks batch sizes that ran out of memory."),
    ChartKind("ops-vs-latency", b.ops_vs_latency, "bench",
              "Latency against the analyzer's MACs at one batch size, with a least-squares line."),
    ChartKind("accuracy-vs-throughput", b.accuracy_vs_throughput, "bench",
              "Published top-1 accuracy against the best throughput measured."),
    ChartKind("power-vs-batch", b.power_vs_batch, "power",
              "Average board power during the throughput window (drawn only where the device reports power)."),
    ChartKind("images-per-joule-vs-batch", b.images_per_joule_vs_batch, "power",
              "Images per joule: how much work each model gets out of the energy it draws "
              "(after Canziani, Paszke and Culurciello 2016)."),
)}


def chart_kind(name: str) -> ChartKind:
    if name not in CHARTS:
        raise InputError(f"unknown chart kind {name!r}; choose from {', '.join(CHARTS)}")
    return CHARTS[name]
