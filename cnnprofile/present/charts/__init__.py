"""Canziani-style charts of profiles, published accuracy and benchmark results.

``data`` computes plain records (no matplotlib); ``labels`` places labels; ``model_charts`` and ``bench_charts``
draw, each chart as ``draw(data: ChartData) -> Figure`` with the Agg canvas and without pyplot, so nothing
global changes; ``registry`` lists every kind; ``output`` renders SVG/PNG. Operations and parameters always come
from the analyzer's profiles, never from a dataset.
"""
from .data import (
                   BenchCell,
                   ChartData,
                   MemoryLine,
                   ModelPoint,
                   Roof,
                   RoofPoint,
                   bench_cells,
                   best_throughput,
                   chart_data,
                   colour_map,
                   common_batch,
                   linear_fit,
                   model_point,
                   roof_points,
                   series,
                   size_legend_values,
)
from .output import save, svgs, to_svg
from .registry import CHARTS, ChartKind, chart_kind

__all__ = ["CHARTS", "BenchCell", "ChartData", "ChartKind", "MemoryLine", "ModelPoint", "bench_cells",
           "best_throughput", "chart_data", "chart_kind", "colour_map", "common_batch", "linear_fit", "model_point",
           "Roof", "RoofPoint", "roof_points", "save", "series", "size_legend_values", "svgs", "to_svg"]
