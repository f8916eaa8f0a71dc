"""Charts of a whole zoo and more, read back from the SVG they render: every model its own colour, no two
labels over each other, every legend beside the plot rather than on it."""
import re
from xml.etree import ElementTree

import pytest
from matplotlib.font_manager import FontProperties
from matplotlib.textpath import TextToPath

from cnnprofile.present.charts import BenchCell, MemoryLine, ModelPoint, chart_data, colour_map, to_svg
from cnnprofile.present.charts import bench_charts as bc
from cnnprofile.present.charts import model_charts as mc
from cnnprofile.present.charts.labels import LABEL
from cnnprofile.present.charts.palette import distance

# The zoo as the README's table gives it (parameters, MACs) with made-up accuracies: the crowding is the zoo's
# own (vgg11 and vgg11_lrn on one spot, vgg13 next to vgg16_c, resnet152 next to se_resnet152), plus eight
# more models to pass 25.
ZOO = [("alexnet", 60_965_224, 724_400_000), ("nin", 7_595_176, 1_100_200_000), ("zfnet", 107_627_624, 2_476_700_000),
       ("vgg11", 132_863_336, 7_609_100_000), ("vgg11_lrn", 132_863_336, 7_609_100_000),
       ("vgg13", 133_047_848, 11_308_500_000), ("vgg16_c", 133_638_952, 11_770_900_000),
       ("vgg16", 138_357_544, 15_470_300_000), ("vgg19", 143_667_240, 19_632_100_000),
       ("googlenet", 6_998_552, 1_582_700_000), ("inception_v3", 23_834_568, 5_713_200_000),
       ("inception_v4", 42_679_816, 12_254_000_000), ("resnet18", 11_689_512, 1_814_100_000),
       ("resnet34", 21_797_672, 3_663_800_000), ("resnet50", 25_557_032, 3_858_000_000),
       ("resnet101", 44_549_160, 7_570_200_000), ("resnet152", 60_192_808, 11_282_400_000),
       ("xception", 22_855_952, 8_357_400_000), ("se_resnet50", 28_088_024, 3_860_500_000),
       ("se_resnet101", 49_326_872, 7_574_900_000), ("se_resnet152", 66_821_848, 11_289_000_000),
       ("xception_localization", 22_864_148, 8_359_500_000)]
EXTRA = [(f"extra_net{i}", 5_000_000 * (i + 1), 900_000_000 * (i + 1)) for i in range(8)]
POINTS = [ModelPoint(name, name, 224, params, macs, 2 * macs, 10**8, 60.0 + (i * 7) % 23, None)
          for i, (name, params, macs) in enumerate(ZOO + EXTRA)]
NAMES = [p.name for p in POINTS]
BATCHES = (1, 8, 32, 128)
MEMORY = [MemoryLine(n, n, "inference", "cuda", BATCHES, tuple(p.params * 4 + b * p.macs // 10 for b in BATCHES))
          for n, p in zip(NAMES, POINTS)]
CELLS = [BenchCell(n, n, b, "ok", 1.0 + i + b * 0.3, b / (1.0 + i + b * 0.3) * 1e3, None, p.macs, False)
         for i, (n, p) in enumerate(zip(NAMES, POINTS)) for b in BATCHES]
DATA = chart_data(POINTS, CELLS, memory=MEMORY)
HEX = re.compile(r"(?:fill|stroke): (#[0-9a-f]{6})")


def _groups(svg: str, prefix: str) -> dict:
    """{name: <g> element} of every group whose id is "<salt>/<prefix><name>"."""
    root = ElementTree.fromstring(svg)
    out = {}
    for g in root.iter("{http://www.w3.org/2000/svg}g"):
        gid = g.get("id", "")
        if "/" in gid and gid.split("/", 1)[1].startswith(prefix):
            out[gid.split("/", 1)[1][len(prefix):]] = g
    return out


def colours_by_model(svg: str) -> dict:
    """{model: set of colours} its marks are drawn in (black outlines left out)."""
    out: dict = {}
    for name, g in _groups(svg, "model:").items():
        model = name.split(":")[0]
        for el in g.iter():
            out.setdefault(model, set()).update(c for c in HEX.findall(el.get("style", "")) if c != "#000000")
    return out


def label_boxes(svg: str) -> dict:
    """{label: (x0, y0, x1, y1)} of every point label, from its position, anchor and font size in the SVG and the
    font's own metrics (DejaVu Sans, the charts' font)."""
    measure = TextToPath()
    boxes = {}
    for name, g in _groups(svg, LABEL).items():
        text = next(el for el in g.iter() if el.tag.endswith("text"))
        style = dict(part.split(": ", 1) for part in text.get("style").split("; "))
        size = float(style["font-size"].rstrip("px"))
        w, h, d = measure.get_text_width_height_descent(text.text, FontProperties(family="DejaVu Sans", size=size),
                                                        ismath=False)
        x, y = float(text.get("x")), float(text.get("y"))
        x0 = x - {"start": 0, "middle": w / 2, "end": w}[style.get("text-anchor", "start")]
        boxes[name] = (x0, y - (h - d), x0 + w, y + d)
    return boxes


def overlapping(boxes: dict, slack: float = 0.25) -> list:
    items = sorted(boxes.items())
    return [(a, b) for i, (a, p) in enumerate(items) for b, q in items[i + 1:]
            if p[0] + slack < q[2] and q[0] + slack < p[2] and p[1] + slack < q[3] and q[1] + slack < p[3]]


def test_thirty_models_get_thirty_colours_that_stay_apart():
    colours = colour_map(NAMES)
    assert len(set(colours.values())) == len(NAMES) == 30
    values = list(colours.values())
    assert min(distance(a, b) for i, a in enumerate(values) for b in values[i + 1:]) > 20  # CIE76 Delta E
    assert list(colour_map(NAMES[:3]).values()) == ["#1f77b4", "#d62728", "#2ca02c"]  # small reports: tab10


@pytest.mark.parametrize("draw", [mc.accuracy_vs_ops, mc.ops_vs_params, bc.memory_vs_batch, bc.latency_vs_batch,
                                  bc.ops_vs_latency])
def test_every_model_has_its_own_colour_in_the_svg(draw):
    found = colours_by_model(to_svg(draw(DATA)))
    assert set(found) == set(NAMES)
    assert all(len(c) == 1 for c in found.values()), found
    assert len({c for cs in found.values() for c in cs}) == len(NAMES)


def test_the_colour_check_fails_on_two_models_sharing_a_colour():
    shared = chart_data(POINTS[:3], colors={"alexnet": "#1f77b4", "nin": "#1f77b4", "zfnet": "#d62728"})
    found = colours_by_model(to_svg(mc.ops_vs_params(shared)))
    assert len({c for cs in found.values() for c in cs}) == 2 < len(found)


@pytest.mark.parametrize("draw", [mc.accuracy_vs_ops, mc.ops_vs_params, bc.ops_vs_latency])
def test_no_two_labels_overlap_in_the_svg(draw):
    boxes = label_boxes(to_svg(draw(DATA)))
    assert len(boxes) == len(NAMES)  # every point is named
    assert overlapping(boxes) == []


def test_the_overlap_check_fails_on_labels_over_each_other():
    svg = ('<svg xmlns="http://www.w3.org/2000/svg">' + "".join(
        f'<g id="s/{LABEL}{n}"><text style="font-size: 8.5px; text-anchor: start" x="{x}" y="50">{n}</text></g>'
        for n, x in (("vgg13", 100), ("vgg16_c", 110), ("alone", 300))) + "</svg>")
    assert overlapping(label_boxes(svg)) == [("vgg13", "vgg16_c")]


@pytest.mark.parametrize("draw", [mc.accuracy_vs_ops, bc.memory_vs_batch, bc.latency_vs_batch, bc.ops_vs_latency])
def test_legends_sit_outside_the_plot(draw):
    fig = draw(DATA)
    fig.draw_without_rendering()
    renderer = fig.canvas.get_renderer()
    (ax,) = fig.axes
    legend = ax.get_legend()
    assert legend is not None
    box, plot = legend.get_window_extent(renderer), ax.get_window_extent(renderer)
    assert box.x0 >= plot.x1 and not box.overlaps(plot)
    assert box.x1 <= fig.bbox.x1 + 1  # and still on the figure
