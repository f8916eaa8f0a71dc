"""How many times each command runs the user's model: one recorded pass gives the profile and every column
asked of it (receptive field, traffic, roofline); a training step is one forward and one backward.

Counted by the model itself (``tests/models/counted.py``), so nothing here trusts our own bookkeeping.
Before the single recording, ``table --rf --intensity --device-peak`` and ``compare`` ran it twice and
``report`` six times."""
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner

from cnnprofile.cli import cli
from cnnprofile.present.charts.memory_lines import DEFAULT_BATCHES

SPEC = f"{Path(__file__).parent / 'models' / 'counted.py'}:build"


def counts(*args) -> dict:
    store = torch.__dict__.setdefault("_cnnprofile_test_counts", {"forward": 0, "backward": 0})
    store.update(forward=0, backward=0)
    res = CliRunner().invoke(cli, list(args))
    assert res.exit_code == 0, res.output
    return dict(store)


@pytest.mark.parametrize("args, expected", [
    (("table", SPEC, "--rf", "--intensity", "--device-peak", "h200-sxm"), {"forward": 1, "backward": 0}),
    (("compare", SPEC), {"forward": 1, "backward": 0}),
    (("memory", SPEC, "--train"), {"forward": 1, "backward": 1}),
    # The inference rows, then the training step whose costs are joined onto them.
    (("table", SPEC, "--train"), {"forward": 2, "backward": 1}),
], ids=["table-rf-intensity-roofline", "compare", "memory-train", "table-train"])
def test_each_command_runs_the_model_once_per_pass(args, expected):
    assert counts(*args) == expected


def test_the_report_runs_it_once_and_once_per_batch_of_its_memory_chart(tmp_path):
    # The layer table, the roofline and the receptive field share one pass; the memory-vs-batch chart predicts
    # the peak at each of its batch sizes, each a pass of its own (shapes change with the batch).
    got = counts("report", SPEC, "--device-peak", "h200-sxm", "-o", str(tmp_path / "r.html"))
    assert got == {"forward": 1 + len(DEFAULT_BATCHES), "backward": 0}
