"""``table --rf``, ``--intensity`` and ``--device-peak``: optional columns of the one layer table, in every view."""
import json

import pytest
from click.testing import CliRunner

from cnnprofile.cli import cli

RF_KEYS = {"receptive_field", "effective_stride", "effective_padding", "whole_input"}
TRAFFIC_KEYS = {"bytes_read", "bytes_written", "arithmetic_intensity"}


def run(*args):
    return CliRunner().invoke(cli, list(args))


def _json(*args):
    result = run(*args, "--format", "json")
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_rf_json_shows_pool5_of_vgg16_in_every_row():
    doc = _json("table", "vgg16", "--rf", "--all")
    assert all(RF_KEYS <= set(row) for row in doc["layers"])
    rows = {r["name"]: r for r in doc["layers"]}
    pool5 = rows["features.30"]
    assert (pool5["receptive_field"], pool5["effective_stride"], pool5["effective_padding"]) == (212, 32, 90)
    assert pool5["whole_input"] is False
    # A fully connected layer sees the whole input: no invented number, and a flag that says so.
    fc = rows["classifier.6"]
    assert fc["whole_input"] is True and fc["receptive_field"] is None and fc["effective_stride"] is None
    assert doc["layers"][0]["name"] == "input" and doc["layers"][0]["receptive_field"] == 1
    assert "receptive field" in doc["conventions"]["receptive_field"]


@pytest.mark.parametrize("view", [[], ["--depth", "1"], ["--depth", "2"]])
def test_rf_columns_in_every_view_take_the_last_output(view):
    rows = {r["name"]: r for r in _json("table", "vgg16", "--rf", *view)["layers"]}
    # The lecture view folds the flatten into pool5's row, the depth-1 view rolls all of `features` into one
    # row: both show pool5's field, the last output of the row that still has a position on the image.
    last = rows["features.30"] if "features.30" in rows else rows["features"]
    assert (last["receptive_field"], last["effective_stride"], last["effective_padding"]) == (212, 32, 90)


def test_rf_per_axis_is_a_list_when_axes_differ(tmp_path, monkeypatch):
    (tmp_path / "wide.py").write_text("from torch import nn\ninput_size = (3, 32, 32)\n\ndef build():\n"
                                      "    return nn.Conv2d(3, 4, (3, 5), stride=(1, 2), padding=(1, 0))\n")
    monkeypatch.chdir(tmp_path)
    conv = _json("table", "wide.py:build", "--rf", "--all")["layers"][1]
    assert (conv["receptive_field"], conv["effective_stride"], conv["effective_padding"]) == ([3, 5], [1, 2], [1, 0])


def test_default_table_has_no_optional_columns():
    doc = _json("table", "alexnet")
    assert not (RF_KEYS | TRAFFIC_KEYS | {"bound", "least_time_s"}) & set(doc["layers"][0])
    assert "device" not in doc and set(doc["totals"]) == {"params", "bias_params", "param_bytes", "macs", "flops",
                                                        "activation_elems", "activation_bytes"}


def test_rf_text_names_the_last_feature_map():
    result = run("table", "alexnet", "--rf")
    assert result.exit_code == 0
    assert "Last feature map: features.14, receptive field 195, stride 32" in result.output
    assert result.output.splitlines()[2].split()[-3:] == ["RF", "Stride", "Padding"]


def test_rf_on_a_model_without_spatial_layers_says_so(tmp_path, monkeypatch):
    (tmp_path / "flat.py").write_text("from torch import nn\ninput_size = (3, 4, 4)\n\n"
                                      "def build():\n    return nn.Sequential(nn.Flatten(), nn.Linear(48, 2))\n")
    monkeypatch.chdir(tmp_path)
    result = run("table", "flat.py:build", "--rf")
    assert result.exit_code == 2 and "has no spatial layer" in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize("view", [["--all"], [], ["--depth", "1"], ["--depth", "2"]])
def test_intensity_rows_add_up_and_views_recompute_the_ratio(view):
    doc = _json("table", "resnet18", "--intensity", *view)
    rows, totals = doc["layers"], doc["totals"]
    for key in ("bytes_read", "bytes_written", "flops"):
        assert sum(r[key] for r in rows) == totals[key], key
    for r in rows:
        moved = r["bytes_read"] + r["bytes_written"]
        assert r["arithmetic_intensity"] == (pytest.approx(r["flops"] / moved) if moved else None)
    assert totals["arithmetic_intensity"] == pytest.approx(totals["flops"] / (totals["bytes_read"]
                                                                             + totals["bytes_written"]))


def test_device_peak_prints_the_bound_and_rejects_unknown_devices():
    doc = _json("table", "resnet18", "--device-peak", "a100-80gb-sxm", "--depth", "1")
    assert doc["device"]["bandwidth_gbs"] == 2039.0
    assert {layer["bound"] for layer in doc["layers"]} <= {"compute", "memory", "none"}
    assert sum(r["least_time_s"] for r in doc["layers"]) == pytest.approx(doc["totals"]["least_time_s"])
    assert TRAFFIC_KEYS <= set(doc["layers"][1])  # --device-peak implies --intensity
    text = run("table", "resnet18", "--device-peak", "a100-80gb-sxm")
    assert "Roofline on A100 80GB SXM" in text.output and "latency >= " in text.output
    bad = run("table", "resnet18", "--device-peak", "h1000")
    assert bad.exit_code == 2 and "known: " in bad.output and "h100-sxm" in bad.output
    assert len(bad.output.strip().splitlines()) == 1
