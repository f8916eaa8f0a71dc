"""The memory-vs-batch chart: predicted peaks from ``cnnprofile.memory`` as lines, measured peaks as points."""
import re

import pytest
from torch import nn

import cnnprofile
from cnnprofile.bench.results import BenchResult, Latency
from cnnprofile.present.charts import CHARTS, bench_cells, chart_data, to_svg
from cnnprofile.present.charts import bench_charts as bc
from cnnprofile.present.charts.memory_lines import DEFAULT_BATCHES, memory_requests, predict_lines
from cnnprofile.present.report import collect
from cnnprofile.sources import ModelSource
from cnnprofile.inputs import Inputs, TensorSpec


def result(model, batch, status="ok", peak=None, train=False, optimizer=None, device="cpu"):
    lat = Latency(2.0, 2.0, 2.0, 0.0, 2.0, 2.0, 5) if status == "ok" else None
    return BenchResult(model=model, batch_size=batch, status=status, device=device, device_name="Test CPU",
                       dtype="float32", latency_ms=lat, throughput_ips=500.0 * batch if lat else None,
                       peak_memory_bytes=peak, peak_memory_kind="rss_delta" if peak else None, train=train,
                       optimizer=optimizer)


RESULTS = [result("lenet5", 1, peak=2_000_000), result("lenet5", 4, peak=3_000_000),
           result("lenet5", 1, peak=5_000_000, train=True, optimizer="adamw"),
           result("lenet5", 8, "oom", train=True, optimizer="adamw"),
           result("alexnet", 1, peak=9_000_000)]


def test_requests_follow_the_results_series_and_default_to_cuda_inference():
    reqs = {q.series: q for q in memory_requests(["lenet5"], RESULTS)}  # alexnet is not in the report
    assert set(reqs) == {"lenet5 (Test CPU, float32)", "lenet5 (Test CPU, float32, train adamw)"}
    train = reqs["lenet5 (Test CPU, float32, train adamw)"]
    assert (train.train, train.optimizer, train.device, train.batches) == (True, "adamw", "cpu", (1, 8))
    assert reqs["lenet5 (Test CPU, float32)"].batches == (1, 4) and not reqs["lenet5 (Test CPU, float32)"].train
    (default,) = memory_requests(["lenet5"], [])
    assert (default.device, default.train, default.batches) == ("cuda", False, DEFAULT_BATCHES)


def test_lines_are_the_memory_predictors_peaks():
    lines = {m.series: m for m in predict_lines(memory_requests(["lenet5"], RESULTS), {})}
    infer, train = lines["lenet5 (Test CPU, float32)"], lines["lenet5 (Test CPU, float32, train adamw)"]
    assert infer.peaks == tuple(cnnprofile.memory("lenet5", batch=b, device="cpu").peak_bytes for b in (1, 4))
    assert train.peaks == tuple(cnnprofile.memory("lenet5", batch=b, device="cpu", train=True,
                                                  optimizer="adamw").peak_bytes for b in (1, 8))
    assert train.step == "training step (adamw)" and infer.step == "inference"
    # a training step holds gradients and adamw's two states on top of the weights: 3 x 4 B per parameter more
    params = cnnprofile.profile("lenet5").totals.params
    assert train.peaks[0] - infer.peaks[0] >= 3 * 4 * params


def test_a_model_the_predictor_cannot_run_gets_its_reason_not_a_line():
    class Broken(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(3, 2)

        def forward(self, x):
            raise RuntimeError("no meta kernel for this")

    source = ModelSource("broken", "file", Broken, Inputs((TensorSpec((1, 3, 4, 4)),)))
    (line,) = predict_lines(memory_requests(["broken"]), {"broken": source})
    assert line.peaks == () and "no meta kernel for this" in line.error
    fig = bc.memory_vs_batch(chart_data(memory=[line]))
    assert any("No prediction for broken" in t.get_text() for t in fig.texts)


def _svg_group(svg: str, gid: str) -> str:
    start = svg.index(f'<g id="{gid}">')
    return svg[start:svg.index("</g>", start)]


def test_drawn_lines_and_points_are_the_predictions_and_measurements():
    lines = predict_lines(memory_requests(["lenet5"], RESULTS), {})
    data = chart_data(cells=bench_cells(RESULTS), memory=lines)
    fig = bc.memory_vs_batch(data)
    artists = {a.get_gid(): a for a in fig.findobj(lambda a: bool(a.get_gid()))}
    series = "lenet5_(Test_CPU,_float32,_train_adamw)"
    line = artists[f"model:{series}:predicted"]
    train = next(m for m in lines if m.step != "inference")
    assert list(line.get_xdata()) == list(train.batches)
    assert list(line.get_ydata()) == pytest.approx([p * 1e-6 for p in train.peaks])  # MB: every peak < 1 GB
    points = artists[f"model:{series}:measured"]
    assert points.get_offsets().tolist() == [[1, 5.0]]  # the one timed training cell; batch 8 ran out of memory
    assert artists[f"model:{series}:oom"].get_offsets()[:, 0].tolist() == [8]
    assert "model:alexnet_(Test_CPU,_float32):measured" in artists  # measured, although not predicted
    assert "model:alexnet_(Test_CPU,_float32):predicted" not in artists
    svg = to_svg(fig, salt="memory-vs-batch")
    assert _svg_group(svg, f"memory-vs-batch/model:{series}:predicted")  # found by id in the SVG as well
    assert "cnnprofile.memory" in svg and "resident set" in svg  # the note says what lines and points are


def test_the_report_draws_predicted_lines_without_benchmark_results():
    data = collect(["lenet5"])
    assert CHARTS["memory-vs-batch"].drawable(data.chart_data)
    (line,) = data.memory
    assert line.batches == DEFAULT_BATCHES and line.device == "cuda"
    assert line.peaks[-1] == cnnprofile.memory("lenet5", batch=DEFAULT_BATCHES[-1]).peak_bytes
    svg = to_svg(bc.memory_vs_batch(data.chart_data), salt="m")
    assert re.search(r'<g id="m/model:lenet5:predicted">', svg)
