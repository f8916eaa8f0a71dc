"""How many times each command runs the user's model: one recorded pass gives the profile and every column
asked of it (receptive field, traffic, roofline); a training step is one forward and one backward.

Counted by the model itself (``tests/models/counted.py``), so nothing here trusts our own bookkeeping.
Before the single recording, ``table --rf --intensity --device-peak`` and ``compare`` ran it twice and
``report`` six times (five once the table, the roofline and the field shared a pass: the memory chart's
line took a pass per batch size)."""
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner

from cnnprofile.cli import cli
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
    (("memory", SPEC), {"forward": 1, "backward": 0}),
    # The kernels and the check that the batch fits the device's memory.
    (("predict", SPEC, "--device", "h200-sxm", "--batch", "8"), {"forward": 1, "backward": 0}),
    # The inference rows, then the training step whose costs are joined onto them.
    (("table", SPEC, "--train"), {"forward": 2, "backward": 1}),
], ids=["table-rf-intensity-roofline", "compare", "memory-train", "memory", "predict", "table-train"])
def test_each_command_runs_the_model_once_per_pass(args, expected):
    assert counts(*args) == expected


def test_the_report_runs_it_once(tmp_path):
    # The layer table, the roofline, the receptive field and the memory chart's peaks at every batch size of
    # its line: one pass (its storage log is replayed at each batch).
    got = counts("report", SPEC, "--device-peak", "h200-sxm", "-o", str(tmp_path / "r.html"))
    assert got == {"forward": 1, "backward": 0}
