"""The picker on a fixed store whose frontier is checked by hand, and the landscape listing as a user sees it
(golden files; regenerate with --update-golden and review the diff)."""
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from cnnprofile.cli import cli
from cnnprofile.landscape import Budget, frontier, landscape
from landscape_fixture import make_store

GOLDEN = Path(__file__).parent / "golden"


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    return make_store(str(tmp_path_factory.mktemp("pick") / "fixed.db"))


def names(entries):
    return [(e.row.architecture, e.row.resolution) for e in entries]


# Hand-checked: on (top-1, MACs) MobileNetV3 (75.8, 0.22 G) beats every ResNet-18 (at most 73.2 and >= 0.93 G);
# EfficientNet-B0 (77.7, 0.39 G) and ResNet-50 at 224 (80.4, 4.1 G) and 288 (81.2, 6.8 G) are beaten by none.
@pytest.mark.parametrize("budget, expected", [
    (Budget(), [("resnet50", 288), ("resnet50", 224), ("efficientnet_b0", 224), ("mobilenetv3_large_100", 224)]),
    (Budget(max_gmacs=2), [("efficientnet_b0", 224), ("mobilenetv3_large_100", 224)]),
    (Budget(max_gmacs=0.5), [("efficientnet_b0", 224), ("mobilenetv3_large_100", 224)]),
    (Budget(max_gmacs=8), [("resnet50", 288), ("resnet50", 224), ("efficientnet_b0", 224),
                           ("mobilenetv3_large_100", 224)]),
    # On parameters alone EfficientNet-B0 (5.29 M) is both smaller and more accurate than MobileNetV3 (5.48 M).
    (Budget(max_params=10_000_000), [("efficientnet_b0", 224)]),
    (Budget(max_params=12_000_000), [("efficientnet_b0", 224)]),  # it beats every ResNet-18 (11.7 M) too
    # Peak memory: 40 MB MobileNetV3 and 60 MB EfficientNet-B0 are both optimal; ResNet-18's 87-98 MB are beaten.
    (Budget(max_memory=100 * 10 ** 6), [("efficientnet_b0", 224), ("mobilenetv3_large_100", 224)]),
    (Budget(max_memory=400 * 10 ** 6, batch=8), [("efficientnet_b0", 224), ("mobilenetv3_large_100", 224)]),
    (Budget(max_memory=600 * 10 ** 6, batch=8), [("efficientnet_b0", 224), ("mobilenetv3_large_100", 224)]),
])
def test_the_frontier_is_the_hand_checked_one(store, budget, expected):
    assert names(frontier(landscape(store), budget)) == expected


def test_every_accuracy_names_its_source_and_unknown_is_marked(store):
    entries = landscape(store)
    assert len(entries) == 10 and sum(e.accuracy is None for e in entries) == 2
    r50 = next(e for e in entries if e.row.architecture == "resnet50" and e.row.resolution == 288)
    assert r50.accuracy.top1 == 81.240 and r50.accuracy.source.endswith("resnet50.a1_in1k at 288 px")
    assert next(e for e in entries if e.row.resolution == 64).flat()["accuracy_source"].startswith("unknown")


def test_pick_cli_json_and_bad_budgets(store):
    out = CliRunner().invoke(cli, ["pick", "--store", store, "--max-gmacs", "2", "--format", "json"])
    assert out.exit_code == 0, out.output
    rows = json.loads(out.output)
    assert [r["architecture"] for r in rows] == ["efficientnet_b0", "mobilenetv3_large_100"]
    assert rows[0]["top1"] == 77.698 and "efficientnet_b0.ra_in1k at 224 px" in rows[0]["accuracy_source"]
    for args, message in ((["--max-memory", "1GB", "--batch", "16"], "not at 16"),
                          (["--max-gmacs", "0.01"], "no profiled model"),
                          (["--max-params", "lots"], "--max-params"), (["--max-gmacs", "-1"], "positive")):
        bad = CliRunner().invoke(cli, ["pick", "--store", store, *args])
        assert bad.exit_code == 2 and message in bad.output and len(bad.output.splitlines()) == 1, bad.output


@pytest.mark.parametrize("name, args", [
    ("landscape_fixed.md", ["landscape", "--format", "markdown"]),
    ("landscape_fixed.csv", ["landscape", "--format", "csv"]),
    ("pick_fixed.txt", ["pick", "--max-gmacs", "8"]),
])
def test_golden_output(request, store, name, args):
    result = CliRunner().invoke(cli, [args[0], "--store", store, *args[1:]])
    assert result.exit_code == 0, result.output
    text = result.output.replace(store, "fixed.db")
    path = GOLDEN / name
    if request.config.getoption("--update-golden"):
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8"), f"{name} changed (regenerate with --update-golden)"


def test_the_page_without_plotly_is_one_line(store, tmp_path, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "plotly", None)
    monkeypatch.setitem(sys.modules, "plotly.graph_objects", None)
    done = CliRunner().invoke(cli, ["report", "--landscape", "--store", store, "-o", str(tmp_path / "p.html")])
    assert done.exit_code == 2 and "needs Plotly" in done.output and len(done.output.splitlines()) == 1
    assert not (tmp_path / "p.html").exists()
