"""`cnnprofile list` and `cnnprofile table` through click's CliRunner, as a user types them."""
import csv
import io
import json
import subprocess
import sys

import pytest
from click.testing import CliRunner

from cnnprofile.cli import cli

JSON_LAYER_KEYS = {"name", "type", "output_shape", "params", "macs", "flops", "activation_elems", "activation_bytes"}
JSON_TOTAL_KEYS = {"params", "param_bytes", "macs", "flops", "activation_elems", "activation_bytes"}


def run(*args):
    return CliRunner().invoke(cli, list(args))


def test_list_shows_the_zoo():
    r = run("list")
    assert r.exit_code == 0
    for name in ("vgg16", "alexnet", "lenet5", "googlenet"):
        assert f"\n{name} " in r.output
    assert "Simonyan" in r.output and "3x224x224" in r.output


def test_table_vgg16_is_the_lecture_table():
    r = run("table", "vgg16")
    assert r.exit_code == 0, r.output
    lines = r.output.splitlines()
    assert lines[0].startswith("vgg16: input 1x3x224x224")
    body = [line for line in lines if line.startswith(("INPUT", "CONV", "POOL", "FC"))]
    assert len(body) == 22
    assert body[1].split()[:4] == ["CONV3-64", "features.0", "Conv2d", "224x224x64"]
    assert "Activations: 15.2M x 4 bytes (float32) = 61 MB" in r.output
    assert "Parameters:  138M x 4 bytes = 553 MB" in r.output
    assert "MACs = multiply-accumulates" in r.output and "FLOPs = 2 x MACs" in r.output


def test_weights_only_and_exact():
    r = run("table", "vgg16", "--weights-only", "--exact")
    assert r.exit_code == 0
    assert "102,760,448" in r.output and "138,344,128" in r.output and "biases left out" in r.output


def test_json_has_the_documented_keys():
    r = run("table", "alexnet", "--format", "json")
    assert r.exit_code == 0
    doc = json.loads(r.output)
    assert {"model", "input_shape", "dtype", "conventions", "layers", "totals", "uncounted_ops"} <= set(doc)
    assert doc["model"] == "alexnet" and doc["input_shape"] == [1, 3, 227, 227]
    assert all(JSON_LAYER_KEYS <= set(layer) for layer in doc["layers"])
    assert JSON_TOTAL_KEYS <= set(doc["totals"])
    assert sum(layer["macs"] for layer in doc["layers"]) == doc["totals"]["macs"]
    assert doc["totals"]["params"] == 60_965_224


def test_csv_has_the_same_column_names():
    r = run("table", "alexnet", "--format", "csv", "--all")
    assert r.exit_code == 0
    rows = list(csv.DictReader(io.StringIO(r.output)))
    assert JSON_LAYER_KEYS <= set(rows[0])
    assert sum(int(x["params"]) for x in rows) == 60_965_224
    assert rows[1]["output_shape"] == "1x96x55x55"


def test_markdown_depth_and_all_views():
    md = run("table", "vgg16", "--format", "markdown", "--depth", "1")
    assert md.exit_code == 0 and "| features" in md.output and "|---" in md.output
    everything = run("table", "vgg16", "--all")
    assert "ReLU" in everything.output and "Dropout" in everything.output


def test_batch_and_dtype():
    r = run("table", "vgg16", "--batch", "8", "--dtype", "bfloat16", "--format", "json")
    doc = json.loads(r.output)
    assert doc["input_shape"] == [8, 3, 224, 224] and doc["dtype"] == "bfloat16"
    assert doc["totals"]["activation_bytes"] == 2 * doc["totals"]["activation_elems"]


@pytest.mark.parametrize("args, message", [
    (["table", "vgg61"], "unknown model 'vgg61'; did you mean"),
    (["table", "vgg16", "--input", "3x224"], "input 3x224: layer 'features.0' (Conv2d) takes a 4-D input"),
    (["table", "vgg16", "--input", "1x3x-5x5"], "input '1x3x-5x5': malformed shape"),
    (["table", "vgg16", "--input", "abc"], "input 'abc': malformed shape"),
    (["table", "vgg16", "--input", "1x3x0x5"], "positive integer"),
    (["table", "vgg16", "--input", "1x3x16x16"], "layer 'features.30' (MaxPool2d) failed"),
    (["table", "vgg16", "--dtype", "int8"], "unsupported dtype 'int8'"),
    (["table", "vgg16", "--batch", "0"], "Invalid value for '--batch'"),
    (["table", "vgg16", "--all", "--depth", "2"], "mutually exclusive"),
    (["table", "vgg16", "--format", "xml"], "Invalid value for '--format'"),
])
def test_bad_input_is_one_line_and_exit_2(args, message):
    r = run(*args)
    assert r.exit_code == 2
    assert message in r.output
    assert len(r.output.strip().splitlines()) == 1 and "Traceback" not in r.output


def test_console_script_exit_status_and_stderr():
    proc = subprocess.run([sys.executable, "-m", "cnnprofile", "table", "vgg16", "--input", "1x3x16x16"],
                          capture_output=True, text=True)
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.count("\n") == 1 and proc.stderr.startswith("Error: vgg16 cannot run on input 1x3x16x16")
