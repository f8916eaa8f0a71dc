"""Chart data (pure functions) and drawing, on hand-made records: no model is profiled here."""
import inspect
import math
import subprocess
import sys
from dataclasses import replace

import pytest
from matplotlib.colors import to_hex

from cnnprofile.present import charts
from cnnprofile.bench.results import BenchResult, Latency
from cnnprofile.present.charts import BenchCell, ModelPoint, Roof, RoofPoint, chart_data
from cnnprofile.present.charts import bench_charts as bc
from cnnprofile.present.charts import model_charts as mc
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


DATA = chart_data(POINTS, CELLS)
# Power as a GPU would report it for some cells: watts, and images per joule (1 / joules per image).
WATTS = {("alexnet", 1): 150.0, ("alexnet", 8): 210.0, ("resnet50", 1): 180.0, ("resnet50", 8): 250.0}
POWERED = chart_data(POINTS, [replace(c, power_w=WATTS.get((c.model, c.batch)),
                                      images_per_joule=c.throughput / WATTS[(c.model, c.batch)]
                                      if (c.model, c.batch) in WATTS else None) for c in CELLS],
                     roof=Roof("H100 SXM", "tf32", 494.5, 3350.0),
                     roof_points=[RoofPoint("alexnet", "features.0", 50.0, 167.5, "memory"),
                                  RoofPoint("vgg16", "features.2", 300.0, 494.5, "compute"),
                                  RoofPoint("resnet50", "relu", 0.125, 0.419, "memory")])


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

def marks(fig, suffix=""):
    """{gid: artist} of every mark drawn for a model (ids "model:NAME", "model:NAME:oom")."""
    return {a.get_gid(): a for a in fig.findobj(lambda a: (a.get_gid() or "").startswith("model:"))
            if a.get_gid().endswith(suffix)}


def colour_of(artist) -> str:
    if hasattr(artist, "get_color") and not hasattr(artist, "get_offsets"):
        return to_hex(artist.get_color(), keep_alpha=False)  # a line
    return to_hex(artist.get_facecolor()[0] if hasattr(artist, "get_offsets") else artist.get_facecolor(),
                  keep_alpha=False)


def test_bubble_area_is_proportional_to_parameters_and_every_bubble_is_labelled():
    fig = mc.accuracy_vs_ops(DATA)
    ax = fig.axes[0]
    bubbles = marks(fig)
    shown = [p for p in POINTS if p.top1 is not None]
    assert sorted(bubbles) == sorted(f"model:{p.name}" for p in shown)
    first = bubbles[f"model:{shown[0].name}"].get_sizes()[0]
    for p in shown:
        b = bubbles[f"model:{p.name}"]
        assert b.get_sizes()[0] / first == pytest.approx(p.params / shown[0].params)
        assert tuple(b.get_offsets()[0]) == (p.macs / 1e9, p.top1)
    labels = texts(fig)
    assert all(p.name in labels for p in shown) and "zfnet" not in labels
    assert any("zfnet" in t and "no published accuracy" in t for t in labels)
    assert "MACs" in ax.get_xlabel() and ax.get_legend().get_title().get_text() == "Bubble area"


def test_flops_axis_says_flops():
    fig = mc.accuracy_vs_ops(chart_data(POINTS, ops="flops"))
    assert "FLOPs" in fig.axes[0].get_xlabel()
    assert tuple(marks(fig)["model:vgg16"].get_offsets()[0]) == (31.0, 71.6)


def test_labels_do_not_overlap_when_points_crowd():
    crowd = [ModelPoint(f"m{i}", "f", 224, 10_000_000, int(4e9 + i * 1e7), 1, 1, 76 + i * 0.05) for i in range(5)]
    fig = mc.accuracy_vs_ops(chart_data(crowd))
    renderer = fig.canvas.get_renderer()
    boxes = [t.get_window_extent(renderer) for t in fig.axes[0].texts]
    assert len(boxes) == 5
    assert not any(a.overlaps(b) for i, a in enumerate(boxes) for b in boxes[i + 1:])


def test_density_is_accuracy_per_million_parameters():
    fig = mc.accuracy_density(DATA)
    widths = sorted(round(p.get_width(), 6) for p in fig.axes[0].patches)
    assert widths == sorted(round(p.top1 / (p.params / 1e6), 6) for p in POINTS if p.top1)


def test_ops_vs_params_shows_models_without_accuracy():
    fig = mc.ops_vs_params(DATA)
    assert "zfnet" in texts(fig) and len(marks(fig)) == 4


def test_memory_chart_marks_out_of_memory_cells():
    fig = bc.memory_vs_batch(DATA)
    ax = fig.axes[0]
    crosses = marks(fig, ":oom")
    assert list(crosses) == ["model:vgg16:oom"]  # vgg16 at batch 8 ran out of memory, nothing else did
    cross = crosses["model:vgg16:oom"]
    assert cross.get_offsets()[:, 0].tolist() == [8] and cross.get_paths()[0] is not None
    assert colour_of(cross) == DATA.colors["vgg16"]
    assert "x = out of memory" in texts(fig) and "(MB)" in ax.get_ylabel()
    assert [t.get_text() for t in ax.get_xticklabels()] == ["1", "8"]


def test_ops_vs_latency_fits_a_line_at_the_common_batch():
    fig = bc.ops_vs_latency(DATA)
    legend = fig.axes[0].get_legend().get_texts()[0].get_text()
    assert "R\u00b2" in legend and "batch 1" in fig.axes[0].get_title()


def test_ops_vs_latency_draws_no_line_through_two_points():
    two = chart_data(POINTS, [c for c in CELLS if c.model != "vgg16"])
    fig = bc.ops_vs_latency(two)
    assert fig.axes[0].get_legend() is None and not fig.axes[0].lines
    assert any("needs at least 3 models" in t for t in texts(fig))


def test_accuracy_vs_throughput_needs_both():
    fig = bc.accuracy_vs_throughput(DATA)
    assert sorted(t for t in texts(fig) if "(b" in t and "bN" not in t) == \
        ["alexnet (b8)", "resnet50 (b8)", "vgg16 (b1)"]


@pytest.mark.parametrize("kind", list(charts.CHARTS))
def test_every_chart_kind_draws_and_renders_svg(kind):
    svg = charts.to_svg(charts.CHARTS[kind].draw(POWERED), salt=kind)
    assert svg.startswith("<svg") and svg.rstrip().endswith("</svg>") and "<path" in svg


@pytest.mark.parametrize("kind", list(charts.CHARTS))
def test_every_chart_kind_has_the_one_signature(kind):
    params = list(inspect.signature(charts.CHARTS[kind].draw).parameters.values())
    assert len(params) == 1 and params[0].annotation in (charts.ChartData, "ChartData")


@pytest.mark.parametrize("kind", list(charts.CHARTS))
def test_a_model_has_the_same_colour_in_every_chart(kind):
    fig = charts.CHARTS[kind].draw(POWERED)
    found = marks(fig)
    assert found, f"{kind} tags no mark with its model"
    for g, artist in found.items():
        model = g.split(":")[1]
        assert colour_of(artist) == POWERED.colors[model], (kind, g)
    # and the colours really differ between models: the map is not one colour for all
    assert len({colour_of(a) for g, a in found.items() if not g.endswith(":oom")}) == \
        len({g.split(":")[1] for g in found if not g.endswith(":oom")})


def test_the_colour_map_follows_the_model_list_then_benchmarked_models():
    data = chart_data(POINTS[:2], [cell("resnet50", 1, 8.0), cell("alexnet", 1, 2.0)])
    assert list(data.colors) == ["alexnet", "vgg16", "resnet50"]
    assert len(set(data.colors.values())) == 3


def test_chart_data_imports_no_matplotlib():
    code = "import sys, cnnprofile.present.charts.data, cnnprofile.present.charts; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_svg_text_is_escaped():
    evil = [ModelPoint("<b>&x</b>", "f", 224, 1_000_000, 1_000_000_000, 1, 1, 60.0),
            ModelPoint("plain", "f", 224, 2_000_000, 2_000_000_000, 1, 1, 70.0)]
    svg = charts.to_svg(mc.accuracy_vs_ops(chart_data(evil)))
    assert "&lt;b&gt;&amp;x&lt;/b&gt;" in svg and "<b>" not in svg


def test_svg_is_reproducible():
    assert charts.to_svg(mc.accuracy_bars(DATA)) == charts.to_svg(mc.accuracy_bars(DATA))


def test_save_writes_svg_and_png_and_refuses_other_extensions(tmp_path):
    fig = mc.accuracy_bars(DATA)
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
    fig = mc.accuracy_bars(chart_data([POINTS[-1]]))
    assert any("no model with a published accuracy" in t for t in texts(fig))
    assert math.isfinite(fig.get_figheight())


def test_short_names_drop_the_torchvision_prefix_only_when_unambiguous():
    from cnnprofile.present.charts.labels import short_names

    assert short_names(["torchvision:vgg16", "resnet50", "torchvision:resnet50"]) == \
        ["vgg16", "resnet50", "torchvision:resnet50"]


def test_a_wide_range_of_operations_gets_a_log_axis():
    tiny = ModelPoint("tiny", "f", 224, 1_000_000, 50_000_000, 1, 1, 60.0)
    assert mc.accuracy_vs_ops(chart_data([tiny] + POINTS)).axes[0].get_xscale() == "log"
    assert mc.accuracy_vs_ops(DATA).axes[0].get_xscale() == "linear"


# --- power -----------------------------------------------------------------------------------------------------

def test_bench_cells_carry_power_and_images_per_joule_only_when_measured():
    results = [result("a", 1, "ok", 2.0, power_w=200.0, energy_per_image_j=0.4), result("a", 2, "ok", 3.0),
               result("a", 4, "oom", power_w=99.0)]
    cells = charts.bench_cells(results)
    assert [(c.power_w, c.images_per_joule) for c in cells] == [(200.0, pytest.approx(2.5)), (None, None),
                                                                 (None, None)]
    assert chart_data(cells=cells).has_power and not chart_data(cells=cells[1:]).has_power


@pytest.mark.parametrize("kind, attr", [("power-vs-batch", "power_w"),
                                        ("images-per-joule-vs-batch", "images_per_joule")])
def test_power_charts_draw_the_measured_cells_only(kind, attr):
    fig = charts.CHARTS[kind].draw(POWERED)
    lines = marks(fig)
    assert sorted(lines) == ["model:alexnet", "model:resnet50"]  # vgg16 has no power reading: no line, no mark
    for g, line in lines.items():
        model = g.split(":")[1]
        expected = [(c.batch, getattr(c, attr)) for c in POWERED.cells if c.model == model]
        assert list(zip(line.get_xdata(), line.get_ydata())) == [(b, pytest.approx(v)) for b, v in expected]
    assert any("power reading" in t for t in texts(fig))


def test_power_charts_need_power_readings():
    power = [k for k in charts.CHARTS.values() if k.needs == "power"]
    assert sorted(k.name for k in power) == ["images-per-joule-vs-batch", "power-vs-batch"]
    assert not any(k.drawable(DATA) for k in power) and all(k.drawable(POWERED) for k in power)
    assert all(k.drawable(DATA) for k in charts.CHARTS.values() if k.needs not in ("power", "device"))
    assert not any(k.drawable(chart_data(POINTS)) for k in charts.CHARTS.values() if k.needs_bench)


def test_roofline_needs_a_device_and_draws_each_layer_under_the_roof():
    kind = charts.CHARTS["roofline"]
    assert not kind.drawable(DATA) and kind.drawable(POWERED)
    fig = kind.draw(POWERED)
    ax = fig.axes[0]
    assert ax.get_xscale() == ax.get_yscale() == "log"
    (roof,) = [line for line in ax.get_lines() if line.get_gid() == "roof"]
    xs, ys = roof.get_xdata(), roof.get_ydata()
    ridge = 494.5 * 1e3 / 3350.0  # FLOPs per byte where 3.35 TB/s reaches 494.5 TFLOP/s
    assert xs[1] == pytest.approx(ridge) and ys[1] == ys[2] == 494.5
    assert ys[0] == pytest.approx(3350.0 * xs[0] / 1e3)  # the memory roof: bandwidth x intensity
    points = {g: a.get_offsets()[0].tolist() for g, a in marks(fig).items()}
    assert points["model:vgg16"] == [300.0, 494.5] and points["model:resnet50"] == [0.125, 0.419]


def test_roof_points_of_a_profiled_relu_by_hand():
    import torch.nn.functional as F
    from torch import nn

    import cnnprofile
    from cnnprofile.devices import device_by_key

    class Relu(nn.Module):
        def forward(self, x):
            return F.relu(x)

    model = Relu()
    p = cnnprofile.profile(model, (1, 8, 4, 4), device=device_by_key("h100-sxm"))
    (point,) = charts.roof_points(p)
    # 128 FLOPs over 512 bytes read and 512 written: 1/8 FLOP per byte, at 3.35 TB/s 0.419 TFLOP/s at most.
    assert (point.intensity, point.bound) == (0.125, "memory")
    assert point.attainable_tflops == pytest.approx(3350 * 0.125 / 1e3)
