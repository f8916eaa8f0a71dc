"""What a first-time user runs into: default outputs that stay out of the repository, options that are refused
rather than ignored, bad files and shapes that get one clear line, and the layer table's output axes."""
import csv
import io
import json
import os
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from cnnprofile.cli import cli
from cnnprofile.present.report import DEFAULT_OUTPUT, LECTURE_OUTPUT

REPO = Path(__file__).resolve().parents[1]
FAST_BENCH = ("--device", "cpu", "--batch-sizes", "1", "--iters", "2", "--warmup", "0", "--max-warmup", "0",
              "--min-time", "0.01", "--no-progress")


def run(*args):
    return CliRunner().invoke(cli, list(args))


def one_line_error(result, *fragments):
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and len(result.output.strip().splitlines()) == 1, result.output
    for fragment in fragments:
        assert fragment in result.output, result.output
    return result.output.strip()


def repo_state() -> str:
    """Every change git sees in the checkout, untracked files included, with the content of each changed file."""
    status = subprocess.run(["git", "status", "--porcelain", "--untracked-files=all"], cwd=REPO,
                            capture_output=True, text=True, check=True).stdout
    diff = subprocess.run(["git", "diff", "HEAD"], cwd=REPO, capture_output=True, text=True, check=True).stdout
    return status + diff


# --- default outputs -----------------------------------------------------------------------------------------

def test_default_outputs_are_files_in_the_current_directory():
    assert os.path.dirname(DEFAULT_OUTPUT) == "" and os.path.dirname(LECTURE_OUTPUT) == ""


@pytest.mark.skipif(not (REPO / ".git").exists(), reason="needs the git checkout")
def test_the_default_output_commands_leave_the_repository_as_it_was(tmp_path, monkeypatch):
    before = repo_state()
    monkeypatch.chdir(tmp_path)
    r = run("report", "alexnet")
    assert r.exit_code == 0, r.output
    assert r.output.startswith(f"wrote {DEFAULT_OUTPUT} ") and (tmp_path / DEFAULT_OUTPUT).is_file()
    r = run("report", "--lecture")
    assert r.exit_code == 0, r.output
    assert r.output.startswith(f"wrote {LECTURE_OUTPUT} ") and (tmp_path / LECTURE_OUTPUT).is_file()
    r = run("bench", "lenet5", *FAST_BENCH)
    assert r.exit_code == 0, r.output
    written = list(tmp_path.glob("bench-*-cpu.jsonl"))
    assert len(written) == 1 and f"Results appended to {os.path.join('.', written[0].name)}" in r.output
    assert repo_state() == before


# --- options accepted and ignored ----------------------------------------------------------------------------

TABLE, MEMORY, BENCH = ("table", "lenet5"), ("memory", "lenet5", "--device", "cpu"), ("bench", "lenet5", *FAST_BENCH)


@pytest.mark.parametrize("command,options,message", [
    *[(c, ("--optimizer", "adam"), "--optimizer needs --train") for c in (TABLE, MEMORY, BENCH)],
    *[(c, ("--trainable", "f6.*"), "--trainable needs --train") for c in (TABLE, MEMORY)],
    *[(c, ("--freeze", "c1.*"), "--freeze needs --train") for c in (TABLE, MEMORY)],
    *[(c, ("--optimizer", "sgd", "--freeze", "c1.*"), "--optimizer and --freeze need --train")
      for c in (TABLE, MEMORY)],
])
def test_training_options_without_train_are_refused_alike(command, options, message, tmp_path):
    extra = ("-o", str(tmp_path / "b.jsonl")) if command[0] == "bench" else ()
    one_line_error(run(*command, *options, *extra), message)
    assert not (tmp_path / "b.jsonl").exists()  # refused before any result file is made


def test_optimizer_with_train_is_taken():
    r = run("memory", "lenet5", "--device", "cpu", "--train", "--optimizer", "adam", "--format", "json")
    assert r.exit_code == 0, r.output
    data = json.loads(r.output)
    assert data["optimizer_state_bytes"] == 2 * data["gradients_bytes"] > 0  # Adam: two moments per parameter


def test_fit_with_batch_is_refused():
    one_line_error(run("memory", "lenet5", "--fit", "24GB", "--batch", "8"), "cannot be combined with --batch")


@pytest.mark.parametrize("size", ["24", "-5GB", "0GB", "banana", "5 parsecs", "GB"])
def test_every_bad_size_gets_the_same_rule(size):
    message = one_line_error(run("memory", "lenet5", "--device", "cpu", "--fit", size))
    assert message == (f"Error: memory size {size!r}: expected a positive number with a unit: B, kB, MB, GB, TB "
                       "(decimal) or KiB, MiB, GiB, TiB, e.g. 24GB")


def test_memory_takes_the_four_formats_of_every_command():
    as_json = json.loads(run("memory", "lenet5", "--device", "cpu", "--format", "json").output)
    r = run("memory", "lenet5", "--device", "cpu", "--format", "csv")
    assert r.exit_code == 0, r.output
    rows = list(csv.reader(io.StringIO(r.output)))
    assert rows[0] == ["figure", "value"] and {k: int(v) for k, v in rows[1:]} == as_json
    r = run("memory", "lenet5", "--device", "cpu", "--format", "markdown")
    assert r.exit_code == 0, r.output
    lines = r.output.splitlines()
    assert lines[2:4] == ["| Figure | Value | Rounded |", "|---|---:|---:|"]
    assert f"| peak_bytes | {as_json['peak_bytes']} |" in r.output and len(lines) == 4 + len(as_json)


# --- bad input -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name,text,line", [
    ("broken.jsonl", '{"schema": 1, "model": "alexnet", "batch_size": 1, "status": "ok"}\nnot json at all\n', 1),
    ("garbage.jsonl", "\nnot json at all\n", 2),
    ("model.py", "import torch\n", 1),
    ("results.csv", "model,batch_size,latency\nalexnet,1,3.2\n", 1),
    ("list.jsonl", "[1, 2]\n", 1),
])
def test_a_results_file_that_is_not_one_is_an_error_naming_file_and_line(tmp_path, name, text, line):
    path = tmp_path / name
    path.write_text(text)
    out = tmp_path / "r.html"
    one_line_error(run("report", "alexnet", "--bench", str(path), "-o", str(out)), f"{path}:{line}: not a benchmark")
    assert not out.exists()


def test_a_wrong_rank_names_the_layer_and_the_rank_it_takes():
    message = one_line_error(run("table", "vgg16", "--input", "3x224"))
    assert message == ("Error: vgg16 cannot run on input 3x224: layer 'features.0' (Conv2d) takes a 4-D input "
                       "(N x C x H x W, or 3-D without the batch), got a 2-D one (3x224)")
    message = one_line_error(run("table", "tests/models/kinds.py:audio", "--input", "1x2x10x10"))
    assert message.endswith("layer '0' (Conv1d) takes a 3-D input (N x C x L, or 2-D without the batch), got a "
                            "4-D one (1x2x10x10)")


def test_the_meta_engine_failure_on_detection_leads_with_what_to_do():
    small = '{"min_size": 64, "max_size": 64, "weights_backbone": null}'
    message = one_line_error(run("table", "torchvision:fasterrcnn_resnet50_fpn", "--engine", "meta",
                                 "--kwargs", small))
    assert message.startswith("Error: torchvision:fasterrcnn_resnet50_fpn: profile it with engine 'real' "
                              "(--engine real): its shapes depend on the data")
    assert "calls torch.nonzero" in message and len(message) <= 220


@pytest.mark.parametrize("args", [
    ("report", "alexnet", "-o", "{missing}/x.html"),
    ("report", "--lecture", "-o", "{missing}/x.html"),
    ("chart", "accuracy-vs-ops", "alexnet", "-o", "{missing}/x.svg"),
    ("bench", "lenet5", *FAST_BENCH, "-o", "{missing}/x.jsonl"),
])
def test_a_missing_directory_is_refused_by_every_command_that_writes(tmp_path, args):
    missing = tmp_path / "no" / "such"
    args = [a.format(missing=missing) for a in args]
    one_line_error(run(*args), f"directory '{missing}' does not exist")
    assert not (tmp_path / "no").exists()


# --- the layer table's output axes ---------------------------------------------------------------------------

def _header(result) -> str:
    assert result.exit_code == 0, result.output
    return result.output.splitlines()[2]


def test_the_output_column_names_the_axes_of_its_rank(tmp_path):
    assert "Output (LxC)" in _header(run("table", "tests/models/kinds.py:audio", "--input", "1x2x16000"))
    assert "Output (HxWxC)" in _header(run("table", "lenet5"))
    (tmp_path / "video.py").write_text(
        "from torch import nn\n\ndef build():\n    return nn.Sequential(nn.Conv3d(3, 4, 3), nn.AdaptiveAvgPool3d(1), "
        "nn.Flatten(), nn.Linear(4, 2))\n")
    lines = run("table", f"{tmp_path / 'video.py'}:build", "--input", "1x3x4x8x8").output.splitlines()
    assert "Output (TxHxWxC)" in lines[2]
    conv = next(line for line in lines if "Conv3d" in line)
    assert " 2x6x6x4 " in conv  # T x H x W x C of the conv's 1x4x2x6x6 output


def test_rows_of_several_feature_map_ranks_get_no_axes():
    from cnnprofile.present.formatting import output_header

    class Row:
        def __init__(self, shape):
            self.output_shape = shape

    assert output_header([Row((1, 3, 8, 8)), Row((1, 4, 16))]) == "Output (...xC)"
    assert output_header([Row((1, 10))]) == "Output (HxWxC)"  # vectors only: the images' header, as before
