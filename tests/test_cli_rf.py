"""``table --rf``, ``--intensity`` and ``--device-peak`` from the command line."""
import json

from click.testing import CliRunner

from cnnprofile.cli import cli


def run(*args):
    return CliRunner().invoke(cli, list(args))


def test_rf_json_shows_pool5_of_vgg16():
    result = run("table", "vgg16", "--rf", "--format", "json")
    assert result.exit_code == 0, result.output
    rows = {r["name"]: r for r in json.loads(result.output)["layers"]}
    pool5 = rows["features.30"]
    assert (pool5["receptive_field"], pool5["effective_stride"], pool5["effective_padding"]) == (212, 32, 90)
    assert rows["classifier.6"]["whole_input"] and rows["classifier.6"]["receptive_field"] is None


def test_rf_text_names_the_last_feature_map():
    result = run("table", "alexnet", "--rf")
    assert result.exit_code == 0 and "last feature map: features.14, receptive field 195" in result.output


def test_rf_on_a_model_without_spatial_layers_says_so(tmp_path, monkeypatch):
    (tmp_path / "flat.py").write_text("from torch import nn\ninput_size = (3, 4, 4)\n\n"
                                      "def build():\n    return nn.Sequential(nn.Flatten(), nn.Linear(48, 2))\n")
    monkeypatch.chdir(tmp_path)
    result = run("table", "flat.py:build", "--rf")
    assert result.exit_code == 2 and "has no spatial layer" in result.output
    assert "Traceback" not in result.output


def test_device_peak_prints_the_bound_and_rejects_unknown_devices():
    result = run("table", "resnet18", "--device-peak", "a100-80gb-sxm", "--format", "json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    assert doc["device"]["bandwidth_gbs"] == 2039.0 and doc["device"]["lower_bound_s"] > 0
    assert {layer["bound"] for layer in doc["layers"]} <= {"compute", "memory", "none"}
    bad = run("table", "resnet18", "--device-peak", "h1000")
    assert bad.exit_code == 2 and "known: " in bad.output and "h100-sxm" in bad.output
    assert len(bad.output.strip().splitlines()) == 1
