"""Chart data (pure functions) and drawing, on hand-made records: no model is profiled here."""
import math

import pytest

from cnnprofile import charts
from cnnprofile.bench.results import BenchResult, Latency
from cnnprofile.charts import BenchCell, ModelPoint
from cnnprofile.errors import InputError

POINTS = [
    ModelPoint("alexnet", "alexnet", 227, 61_000_000, 724_000_000, 1_460_000_000, 17_000_000, 56.5, 79.1),
    ModelPoint("vgg16", "vgg", 224, 138_000_000, 15_500_000_000, 31_000_000_000, 61_000_000, 71.6, 90.4),
    ModelPoint("resnet50", "resnet", 224, 25_600_000, 3_860_000_000, 7_750_000_000, 108_000_000, 76.1, 92.9),
    ModelPoint("zfnet", "alexnet", 224, 108_000_000, 2_480_000_000, 4_960_000_000, 18_000_000),  # no accuracy
]


def cell(model, batch, latency=None, status="ok", memory=None, noisy=False, macs=1_000_000_000):
    thr = batch / latency * 1e3 if latency else None
    return BenchCell(model, model, batch, status, latency, thr, memory, macs, noisy)


CELLS = [cell("alexnet", 1, 2.0, memory=300_000_000, macs=724_000_000),
         cell("alexnet", 8, 9.0, memory=500_000_000, macs=724_000_000),
         cell("vgg16", 1, 30.0, memory=900_000_000, macs=15_500_000_000),
         cell("vgg16", 8, None, status="oom", macs=15_500_000_000),
         cell("resnet50", 1, 8.0, memory=400_000_000, noisy=True, macs=3_860_000_000),
         cell("resnet50", 8, 40.0, memory=800_000_000, macs=3_860_000_000)]


def texts(fig):
    return [t.get_text() for ax in fig.axes for t in ax.texts] + [t.get_text() for t in fig.texts]


def result(model, batch, status, median=None, **kw):
    lat = Latency(median, median, median, 0.0, median, median, 10) if median else None
    return BenchResult(model=model, batch_size=batch, status=status, device="cpu", device_name="CPU",
                       dtype="float32", latency_ms=lat, throughput_ips=batch / median * 1e3 if median else None,
                       **kw)


# --- data ----------------------------------------------------------------------------------------------------

def test_linear_fit_recovers_a_line_and_refuses_one_point():
    slope, intercept, r2 = charts.linear_fit([1, 2, 3, 4], [5, 7, 9, 11])
    assert (slope, intercept, r2) == (pytest.approx(2), pytest.approx(3), pytest.approx(1))
    assert charts.linear_fit([1], [2]) is None and charts.linear_fit([2, 2], [1, 3]) is None


def test_bench_cells_keep_ok_and_oom_only_and_prefer_the_analyzer_macs():
    results = [result("a", 1, "ok", 2.0, macs_per_image=5), result("a", 2, "oom"),
               result("a", 4, "invalid", 0.001), result("a", 8, "error", error="boom")]
    cells = charts.bench_cells(results, macs={"a": 7})
    assert [(c.batch, c.status) for c in cells] == [(1, "ok"), (2, "oom")]
    assert cells[0].latency_ms == 2.0 and cells[0].macs_per_image == 7 and cells[1].latency_ms is None


def test_series_name_the_configuration_only_when_several():
    a = result("a", 1, "ok", 1.0)
    b = BenchResult(**{**a.__dict__, "dtype": "float16"})
    assert {c.series for c in charts.bench_cells([a])} == {"a"}
    assert {c.series for c in charts.bench_cells([a, b])} == {"a (CPU, float32)", "a (CPU, float16)"}


def test_common_batch_and_best_throughput():
    assert charts.common_batch(CELLS) == 1  # three models timed at batch 1, two at batch 8
    best = charts.best_throughput(CELLS)
    assert best["alexnet"] == (pytest.approx(8 / 9 * 1e3), 8) and best["vgg16"][1] == 1


def test_size_legend_values_are_round_and_span_the_data():
    values = charts.size_legend_values([7_000_000, 25_000_000, 144_000_000])
    assert values == [10_000_000, 50_000_000, 100_000_000]


# --- drawing ---------------------------------------------------------------------------------------------------

def test_bubble_area_is_proportional_to_parameters_and_every_bubble_is_labelled():
    fig = charts.accuracy_vs_ops(POINTS)
    ax = fig.axes[0]
    bubbles = ax.collections[0]
    shown = [p for p in POINTS if p.top1 is not None]
    sizes = bubbles.get_sizes()
    for p, s in zip(shown, sizes):
        assert s / sizes[0] == pytest.approx(p.params / shown[0].params)
    assert [tuple(o) for o in bubbles.get_offsets()] == [(p.macs / 1e9, p.top1) for p in shown]
    labels = texts(fig)
    assert all(p.name in labels for p in shown) and "zfnet" not in labels
    assert any("zfnet" in t and "no published accuracy" in t for t in labels)
    assert "MACs" in ax.get_xlabel() and ax.get_legend().get_title().get_text() == "Bubble area"


def test_flops_axis_says_flops():
    fig = charts.accuracy_vs_ops(POINTS, ops="flops")
    assert "FLOPs" in fig.axes[0].get_xlabel()
    assert tuple(fig.axes[0].collections[0].get_offsets()[1]) == (31.0, 71.6)


def test_labels_do_not_overlap_when_points_crowd():
    crowd = [ModelPoint(f"m{i}", "f", 224, 10_000_000, int(4e9 + i * 1e7), 1, 1, 76 + i * 0.05) for i in range(5)]
    fig = charts.accuracy_vs_ops(crowd)
    renderer = fig.canvas.get_renderer()
    boxes = [t.get_window_extent(renderer) for t in fig.axes[0].texts]
    assert len(boxes) == 5
    assert not any(a.overlaps(b) for i, a in enumerate(boxes) for b in boxes[i + 1:])


def test_density_is_accuracy_per_million_parameters():
    fig = charts.accuracy_density(POINTS)
    widths = sorted(round(p.get_width(), 6) for p in fig.axes[0].patches)
    assert widths == sorted(round(p.top1 / (p.params / 1e6), 6) for p in POINTS if p.top1)


def test_ops_vs_params_shows_models_without_accuracy():
    fig = charts.ops_vs_params(POINTS)
    assert "zfnet" in texts(fig) and len(fig.axes[0].collections[0].get_offsets()) == 4


def test_memory_chart_marks_out_of_memory_cells():
    fig = charts.memory_vs_batch(CELLS)
    ax = fig.axes[0]
    crosses = [c for c in ax.collections if len(c.get_offsets()) and c.get_offsets()[0][1] == 0.96]
    assert len(crosses) == 1 and tuple(crosses[0].get_offsets()[0]) == (8, 0.96)
    assert "x = out of memory" in texts(fig) and "(MB)" in ax.get_ylabel()
    assert [t.get_text() for t in ax.get_xticklabels()] == ["1", "8"]


def test_ops_vs_latency_fits_a_line_at_the_common_batch():
    fig = charts.ops_vs_latency(CELLS)
    legend = fig.axes[0].get_legend().get_texts()[0].get_text()
    assert "R\u00b2" in legend and "batch 1" in fig.axes[0].get_title()


def test_accuracy_vs_throughput_needs_both():
    fig = charts.accuracy_vs_throughput(POINTS, CELLS)
    assert sorted(t for t in texts(fig) if "(b" in t and "bN" not in t) == \
        ["alexnet (b8)", "resnet50 (b8)", "vgg16 (b1)"]


@pytest.mark.parametrize("kind", list(charts.CHARTS))
def test_every_chart_kind_draws_and_renders_svg(kind):
    svg = charts.to_svg(charts.CHARTS[kind].draw(POINTS, CELLS, "macs"), salt=kind)
    assert svg.startswith("<svg") and svg.rstrip().endswith("</svg>") and "<path" in svg


def test_svg_text_is_escaped():
    evil = [ModelPoint("<b>&x</b>", "f", 224, 1_000_000, 1_000_000_000, 1, 1, 60.0),
            ModelPoint("plain", "f", 224, 2_000_000, 2_000_000_000, 1, 1, 70.0)]
    svg = charts.to_svg(charts.accuracy_vs_ops(evil))
    assert "&lt;b&gt;&amp;x&lt;/b&gt;" in svg and "<b>" not in svg


def test_svg_is_reproducible():
    assert charts.to_svg(charts.accuracy_bars(POINTS)) == charts.to_svg(charts.accuracy_bars(POINTS))


def test_save_writes_svg_and_png_and_refuses_other_extensions(tmp_path):
    fig = charts.accuracy_bars(POINTS)
    assert (tmp_path / "a.svg").exists() is False
    charts.save(fig, str(tmp_path / "a.svg"))
    charts.save(fig, str(tmp_path / "a.png"))
    assert (tmp_path / "a.svg").read_text().lstrip().startswith("<?xml")
    assert (tmp_path / "a.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(InputError, match=r"\.svg or \.png"):
        charts.save(fig, str(tmp_path / "a.pdf"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.png", "a.svg"]  # no temporary file left


def test_unknown_chart_kind_is_a_user_error():
    with pytest.raises(InputError, match="unknown chart kind 'pie'"):
        charts.chart_kind("pie")


def test_empty_accuracy_still_draws():
    fig = charts.accuracy_bars([POINTS[-1]])
    assert any("no model with a published accuracy" in t for t in texts(fig))
    assert math.isfinite(fig.get_figheight())


def test_short_names_drop_the_torchvision_prefix_only_when_unambiguous():
    assert charts.short_names(["torchvision:vgg16", "resnet50", "torchvision:resnet50"]) == \
        ["vgg16", "resnet50", "torchvision:resnet50"]


def test_a_wide_range_of_operations_gets_a_log_axis():
    tiny = ModelPoint("tiny", "f", 224, 1_000_000, 50_000_000, 1, 1, 60.0)
    assert charts.accuracy_vs_ops([tiny] + POINTS).axes[0].get_xscale() == "log"
    assert charts.accuracy_vs_ops(POINTS).axes[0].get_xscale() == "linear"
