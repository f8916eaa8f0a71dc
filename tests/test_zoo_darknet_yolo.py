"""Darknet-19, Extraction, YOLOv1 and YOLOv2 against what darknet itself prints for their cfgs, layer by layer,
and against the YOLO9000 paper's operation counts (tests/data/darknet/README.md says how the files were made)."""
import re
from pathlib import Path

import pytest

import cnnprofile

DARKNET = Path(__file__).parent / "data" / "darknet"
CONV = re.compile(r"conv\s+(\d+)\s+(\d+) x\s*(\d+) /\s*(\d+)\s+\d+ x\s*\d+ x\s*\d+\s+->\s+(\d+) x\s*(\d+) x\s*(\d+)"
                  r"\s+([\d.]+) BFLOPs")
CONNECTED = re.compile(r"connected\s+(\d+)\s+->\s+(\d+)")
TOTAL = re.compile(r"Floating Point Operations: (\d+)$", re.M)


def _darknet(name: str) -> tuple:
    """(per-layer (kind, output HxWxC or outputs, BFLOPs printed), total operations) of a darknet print."""
    layers = []
    text = (DARKNET / f"{name}.txt").read_text()
    for line in text.splitlines():
        if m := CONV.search(line):
            w, h, c = m.group(5, 6, 7)
            layers.append(("conv", f"{h}x{w}x{c}", float(m.group(8))))
        elif m := CONNECTED.search(line):
            layers.append(("fc", m.group(2), 2 * int(m.group(1)) * int(m.group(2)) / 1e9))
    return layers, int(TOTAL.search(text).group(1))


def _ours(p) -> list:
    out = []
    for r in p.layers:
        if r.kind in ("conv", "fc"):
            dims = r.output_shape[1:]
            shape = f"{dims[1]}x{dims[2]}x{dims[0]}" if len(dims) == 3 else str(dims[0])
            out.append((r.kind, shape, 2 * r.macs / 1e9))
    return out


CASES = [  # (darknet print, our model, input, kwargs)
    ("darknet19_224", "darknet19", None, {}),
    ("extraction_224", "extraction", None, {}),
    ("yolov1_2015_448", "yolov1", None, {}),
    ("yolo-voc_2016_416", "yolov2_voc", None, {}),
    ("yolo-voc_2016_320", "yolov2_voc", (3, 320, 320), {}),
    ("yolo-voc_2016_608", "yolov2_voc", (3, 608, 608), {}),
    ("yolov2-voc_2018_416", "yolov2_voc", None, {"reorg_channels": 64}),
    ("vgg-16_224", "vgg16", None, {}),
]


@pytest.mark.parametrize("printed, model, size, kwargs", CASES, ids=[c[0] for c in CASES])
def test_every_layer_and_the_total_are_what_darknet_prints(printed, model, size, kwargs):
    layers, total = _darknet(printed)
    p = cnnprofile.profile(model, size, kwargs=kwargs)
    ours = _ours(p)
    assert [(k, s) for k, s, _ in ours] == [(k, s) for k, s, _ in layers]
    # darknet prints BFLOPs with 3 decimals: ours rounded the same way.
    assert [round(f, 3) for k, _, f in ours if k == "conv"] == [f for k, _, f in layers if k == "conv"]
    # Its total counts what ours does as MACs (convolutions and dense layers), 2 per multiply-add, exactly.
    assert 2 * p.totals.macs == total
    assert not p.uncounted_ops


def test_the_yolo9000_papers_operation_counts():
    """Section 3 ("Faster"): Darknet-19 5.58 billion operations, YOLOv1's GoogLeNet-like network 8.52 billion,
    VGG-16 30.69 billion, all at 224x224 and counted 2 per multiply-add; VGG-16's figure leaves out its three
    dense layers (with them it is 30.94 billion, what darknet prints for cfg/vgg-16.cfg)."""
    assert round(2 * cnnprofile.profile("darknet19").totals.macs / 1e9, 2) == 5.58
    assert round(2 * cnnprofile.profile("extraction").totals.macs / 1e9, 2) == 8.52
    vgg = cnnprofile.profile("vgg16")
    conv_ops = 2 * sum(r.macs for r in vgg.layers if r.kind == "conv")
    assert round(conv_ops / 1e9, 2) == 30.69
    assert round(2 * vgg.totals.macs / 1e9, 2) == 30.94


@pytest.mark.parametrize("size, grid", [(320, 10), (416, 13), (608, 19)])
def test_yolov2_multi_scale_grids(size, grid):
    p = cnnprofile.profile("yolov2_voc", (3, size, size))
    assert p.output_shapes[0][1] == (1, 5 * (4 + 1 + 20), grid, grid)


def test_yolov1_output_is_the_papers_7x7x30_tensor():
    p = cnnprofile.profile("yolov1")
    assert p.output_shapes[0][1] == (1, 2 * (4 + 1) + 20, 7, 7)
    assert sum(1 for r in p.layers if r.kind == "conv") == 24 and sum(1 for r in p.layers if r.kind == "fc") == 2
    assert not any(r.type == "BatchNorm2d" for r in p.layers)  # batch normalisation came with YOLOv2


def test_yolov2_passthrough_stacks_26x26x512_into_13x13x2048():
    p = cnnprofile.profile("yolov2_voc")
    reorg = [r for r in p.layers if r.type == "PixelUnshuffle"]
    assert [r.output_shape for r in reorg] == [(1, 2048, 13, 13)]
    assert reorg[0].macs == 0


@pytest.mark.parametrize("args, line", [
    (["yolov2_voc", "--input", "3x608x608"],
     "Output: 19x19x125 = 19x19 cells x 5 anchors x (4 coordinates + 1 objectness + 20 class probabilities)"),
    (["yolov1"], "Output: 7x7x30 = 7x7 cells x (2 boxes x (4 coordinates + 1 confidence) + 20 class probabilities)"),
])
def test_the_table_explains_a_detectors_output_per_cell(args, line):
    from click.testing import CliRunner

    from cnnprofile.cli import cli

    r = CliRunner().invoke(cli, ["table", *args])
    assert r.exit_code == 0 and r.output.splitlines()[-1] == line, r.output
