"""The exact bytes of `compare`, `list`, `devices` and a bench summary, as a user sees them. After an intended change,
regenerate and review the diff:

    python -m pytest tests/test_golden_outputs.py --update-golden

The bench summary is rendered from tests/data/bench_a100_fp16.jsonl, a fixed results file (never regenerated).
"""
from pathlib import Path

import pytest
from click.testing import CliRunner

from cnnprofile.bench.results import read_results
from cnnprofile.present.bench_summary import render
from cnnprofile.cli import cli

HERE = Path(__file__).parent
GOLDEN = HERE / "golden"
BENCH = HERE / "data" / "bench_a100_fp16.jsonl"


@pytest.fixture
def golden(request):
    """golden(name, text): ``text`` must be tests/golden/<name> byte for byte (or rewrites it with --update-golden)."""
    def check(name: str, text: str) -> None:
        path = GOLDEN / name
        if request.config.getoption("--update-golden"):
            path.write_text(text, encoding="utf-8")
        assert path.exists(), f"no golden file {path}; create it with --update-golden"
        assert text == path.read_text(encoding="utf-8"), f"{name} changed (regenerate with --update-golden)"
    return check


@pytest.mark.parametrize("name, args", [
    ("compare_lecture.txt", ["compare", "alexnet", "vgg16", "googlenet", "resnet50"]),
    ("list.txt", ["list"]),
    ("list.md", ["list", "--format", "markdown"]),
    ("devices.txt", ["devices"]),
    ("devices.md", ["devices", "--format", "markdown"]),
    ("predict_resnet50_4090.txt", ["predict", "timm:resnet50", "--device", "rtx-4090", "--amp", "fp16", "--batch",
                                   "1024", "--top", "6"]),
])
def test_command_output(golden, name, args):
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    golden(name, result.output)


@pytest.mark.parametrize("fmt, name", [("text", "bench_summary.txt"), ("markdown", "bench_summary.md"),
                                       ("csv", "bench_summary.csv")])
def test_bench_summary_of_a_fixed_results_file(golden, fmt, name):
    golden(name, render(read_results(BENCH), fmt))
