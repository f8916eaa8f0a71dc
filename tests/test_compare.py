"""``compare``: one row per model, the same totals as ``profile``, published accuracy where known."""
import csv
import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

import cnnprofile
from cnnprofile.cli import cli
from cnnprofile.present.compare import SORT_KEYS, compare, format_comparison

TINY = str(Path(__file__).parent / "models" / "tiny.py")
LECTURE = ["alexnet", "vgg16", "googlenet", "resnet50", "xception", "se_resnet50"]


def run(*args):
    result = CliRunner().invoke(cli, list(args))
    return result, result.output.strip().splitlines()


def test_rows_carry_the_profiles_totals():
    comp = compare(["vgg16", "torchvision:resnet18", f"{TINY}:build"], batch=2, dtype="float16")
    assert [r.model for r in comp.rows] == ["vgg16", "torchvision:resnet18", "tiny.py:build"]
    for row, spec in zip(comp.rows, ["vgg16", "torchvision:resnet18", f"{TINY}:build"]):
        t = cnnprofile.profile(spec, batch=2, dtype="float16").totals
        assert (row.params, row.param_bytes, row.macs, row.flops, row.activation_bytes) == \
            (t.params, t.param_bytes, t.macs, t.flops, t.activation_bytes)
        assert row.input_shape[0] == 2
    tv = comp.rows[1]
    assert tv.top1 == pytest.approx(69.758) and tv.top5 == pytest.approx(89.078)
    assert "ResNet18_Weights.IMAGENET1K_V1" in tv.accuracy_source
    assert comp.rows[2].top1 is None and comp.rows[2].origin == "file"


def test_changed_arguments_drop_the_published_accuracy():
    comp = compare(["torchvision:resnet18"], kwargs={"num_classes": 10})
    assert comp.rows[0].top1 is None and comp.rows[0].params == 11689512 - 513000 + 5130


@pytest.mark.parametrize("sort", SORT_KEYS)
def test_sorting(sort):
    device = "rtx-4090" if sort == "predicted" else None
    comp = compare(["resnet18", "torchvision:resnet50", "torchvision:alexnet", f"{TINY}:build"], sort=sort,
                   device=device)
    rows = comp.rows
    if sort == "predicted":  # fastest first; the tiny net is fastest of all
        values = [r.predicted_ms for r in rows]
        assert values == sorted(values) and rows[0].model == "tiny.py:build"
    elif sort == "name":
        assert [r.model for r in rows] == sorted(r.model for r in rows)
    elif sort == "top1":
        assert [r.model for r in rows][:2] == ["torchvision:resnet50", "resnet18"] and rows[-1].top1 is None
    else:
        attr = {"activation": "activation_bytes"}.get(sort, sort)
        values = [getattr(r, attr) for r in rows]
        assert values == sorted(values) and rows[0].model == "tiny.py:build"


def test_the_lectures_comparison_from_the_cli():
    result, lines = run("compare", *LECTURE)
    assert result.exit_code == 0, result.output
    assert "MACs" in lines[2] and "FLOPs" in lines[2] and "Top-1 %" in lines[2]
    body = [line.split()[0] for line in lines[4:4 + len(LECTURE)]]
    assert body == LECTURE
    data = json.loads(run("compare", *LECTURE, "--format", "json", "--sort", "macs")[0].output)
    models = data["models"]
    assert [m["model"] for m in models][0] == "alexnet" and models[-1]["model"] == "vgg16"
    assert {m["model"]: m["macs"] for m in models}["vgg16"] == 15_470_264_320
    assert all(m["top1"] is not None for m in models)


def test_formats_and_the_fvcore_engine():
    comp = compare([f"{TINY}:build"], engine="fvcore")
    assert comp.engine == "fvcore" and "fvcore" in comp.conventions.macs
    rows = list(csv.DictReader(io.StringIO(format_comparison(comp, "csv"))))
    assert rows[0]["model"] == "tiny.py:build" and int(rows[0]["macs"]) == comp.rows[0].macs
    assert format_comparison(comp, "markdown").startswith("### Comparison: engine fvcore")
    result, _ = run("compare", "torchvision:resnet*", "--input", "1x3x64x64", "--format", "json")
    assert result.exit_code == 0 and len(json.loads(result.output)["models"]) == 5


@pytest.mark.parametrize("args, expected", [
    (["nope"], "unknown model 'nope'"),
    (["torchvision:nothing*"], "no model matches 'torchvision:nothing*'"),
    (["vgg16", "--sort", "speed"], "Invalid value for '--sort'"),
    (["vgg16", "--kwargs", "[]"], "expected a JSON object"),
    ([], "Missing argument 'MODELS...'"),
])
def test_errors_are_one_line(args, expected):
    result, lines = run("compare", *args)
    assert result.exit_code == 2 and len(lines) == 1 and expected in lines[0], result.output
