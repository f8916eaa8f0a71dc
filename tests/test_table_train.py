"""``table --train``: per-row backward MACs/FLOPs and saved bytes, per module call, adding up in every view."""
import csv
import io
import json

import pytest
import torch
from click.testing import CliRunner
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from cnnprofile import profile
from cnnprofile.cli import cli
from cnnprofile.analyses.memory import memory
from cnnprofile.analyses.memory.columns import with_training
from cnnprofile.sources import module_and_shape
from cnnprofile.analyses.views import select_view

F32 = 4


class _SharedRelu(nn.Module):
    """conv1 -> relu -> conv2 -> the same relu -> flatten -> fc, on a 1x1x6x6 input."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 2, 3, bias=False)  # -> 1x2x4x4: 32 outputs x 1*9 = 288 MACs
        self.conv2 = nn.Conv2d(2, 3, 3, bias=False)  # -> 1x3x2x2: 12 outputs x 2*9 = 216 MACs
        self.relu = nn.ReLU()
        self.fc = nn.Linear(12, 5, bias=False)  # 12 x 5 = 60 MACs

    def forward(self, x):
        x = self.relu(self.conv1(x))
        x = self.relu(self.conv2(x))
        return self.fc(torch.flatten(x, 1))


def _rows(rules=None):
    model = _SharedRelu()
    p = with_training(profile(model, (1, 1, 6, 6)), model, optimizer="none", rules=rules)
    return p, [(r.name, r.backward_macs, r.backward_flops, r.saved_bytes) for r in p.layers]


def test_tiny_net_by_hand_each_call_of_the_shared_relu_on_its_own_row():
    p, rows = _rows()
    # conv1: weight gradient only (288 MACs), the input needs no gradient. conv2 and fc: weight and input
    # gradients, twice their forward MACs. A matrix product's FLOPs are 2 x MACs (no bias).
    # ReLU's backward is one masked copy per element: 32 for its first call, 12 for its second. It saves its
    # output (32 and 12 floats), which conv2 and fc read as their inputs (the same storage: counted once).
    assert rows == [
        ("input", 0, 0, 0),
        ("conv1", 288, 576, 0),
        ("relu", 0, 32, 32 * F32),
        ("conv2", 2 * 216, 4 * 216, 0),
        ("relu", 0, 12, 12 * F32),
        ("(model)", 0, 0, 0),  # the flatten: a view, no cost and no new storage
        ("fc", 2 * 60, 4 * 60, 0),
    ]
    assert (p.totals.backward_macs, p.totals.backward_flops, p.totals.saved_bytes) == (840, 1724, 44 * F32)


def test_frozen_base_computes_no_input_gradient():
    p, rows = _rows(rules=[("trainable", "fc.*")])
    # Nothing below fc needs a gradient: fc computes its weight gradient only, the base nothing at all.
    assert [r[1:3] for r in rows] == [(0, 0)] * 6 + [(60, 120)]
    assert p.training.trainable_params == 60 and p.training.frozen_params == 18 + 54


@pytest.fixture(scope="module")
def resnet18():
    return with_training(profile("resnet18", batch=2), "resnet18", optimizer="adamw")


@pytest.mark.parametrize("view", [dict(), dict(all_layers=True), *(dict(depth=d) for d in range(4))])
def test_rows_add_up_to_the_totals_in_every_view(resnet18, view):
    rows = select_view(resnet18, **view)
    t, step = resnet18.totals, resnet18.training
    for name in ("backward_macs", "backward_flops", "saved_bytes"):
        assert sum(getattr(r, name) for r in rows) == getattr(t, name)
        # The loss is beside the rows; ResNet's training forward makes no call its inference pass does not.
        assert getattr(t, name) + getattr(step.loss, name) == getattr(step.step, name)
    assert step.unmatched_layers == ()


def test_totals_equal_cnnprofile_memory(resnet18):
    r = memory("resnet18", batch=2, train=True, optimizer="adamw", device="cpu")
    s = resnet18.training.step
    assert (s.backward_macs, s.backward_flops, s.forward_macs) == (r.backward_macs, r.backward_flops, r.forward_macs)
    assert s.saved_bytes == r.saved_activations_bytes
    assert resnet18.training.loss.backward_macs == 0 and resnet18.training.loss.backward_flops > 0


def test_backward_macs_of_each_conv_and_fc_agree_with_flop_counter_mode(resnet18):
    """FlopCounterMode per module, backward only (the counts after backward less those after forward)."""
    module, shape, _ = module_and_shape("resnet18", batch=2, device="meta")
    module.train()
    with FlopCounterMode(display=False) as counter:
        out = module(torch.empty(shape, device="meta"))
        forward = {k: sum(v.values()) for k, v in counter.get_flop_counts().items()}
        nn.functional.cross_entropy(out, torch.zeros(shape[0], dtype=torch.long, device="meta")).backward()
    backward = {k: sum(v.values()) - forward.get(k, 0) for k, v in counter.get_flop_counts().items()}
    checked = [r for r in resnet18.layers if r.kind in ("conv", "fc")]
    assert len(checked) == 21  # 20 convolutions (3 of them downsampling) and the classifier
    for r in checked:  # ResNet has no grouped convolution: FlopCounterMode's weight gradients are exact here
        counted = backward["ResNet." + r.name]
        if r.name.endswith(".0.conv1") and r.name != "layer1.0.conv1":
            # FlopCounterMode keeps a module open in backward until its input's gradient is complete; the
            # downsampling branch reads the same input, so its backward is counted under conv1 as well.
            counted -= backward["ResNet." + r.name.replace("conv1", "downsample.0")]
        assert 2 * r.backward_macs == counted, r.name
    assert resnet18.layers[1].name == "conv1" and 2 * resnet18.layers[1].backward_macs == (
        backward["ResNet.conv1"]) == 2 * resnet18.layers[1].macs  # the first conv: no input gradient


def test_a_module_called_twice_has_each_calls_costs_on_its_own_row(resnet18):
    relus = [r for r in resnet18.layers if r.name == "layer1.0.relu"]
    assert len(relus) == 2
    # ResNet's BasicBlock applies its one ReLU after bn1 and after the addition: two calls, the same size.
    assert relus[0].backward_flops == relus[1].backward_flops == 2 * 64 * 56 * 56


def _cli(*args):
    return CliRunner().invoke(cli, ["table", "resnet18", "--batch", "2", "--train", *args])


def test_cli_json_and_csv_rows_add_up():
    doc = json.loads(_cli("--depth", "2", "--format", "json").output)
    for name in ("backward_macs", "backward_flops", "saved_bytes"):
        assert sum(r[name] for r in doc["layers"]) == doc["totals"][name] > 0
        assert doc["totals"][name] + doc["training"]["loss"][name] == doc["training"]["step"][name]
    assert "training" in doc["conventions"]
    rows = list(csv.DictReader(io.StringIO(_cli("--all", "--format", "csv").output)))
    assert sum(int(r["backward_macs"]) for r in rows) == doc["totals"]["backward_macs"]


def test_text_shows_the_columns_loss_line_and_conventions():
    out = _cli("--format", "markdown").output
    assert "| Bwd MACs | Bwd FLOPs | Saved |" in out.replace("  ", " ").replace("  ", " ")
    assert "Loss (not a row): backward MACs 0" in out and "Training step (sgd;" in out
    assert "backward/forward MACs 1.93" in out and "training columns = one training step" in out


def test_default_output_has_no_training_columns():
    out = CliRunner().invoke(cli, ["table", "resnet18", "--format", "json"]).output
    doc = json.loads(out)
    assert "training" not in doc and "backward_macs" not in doc["layers"][0] and "backward_macs" not in doc["totals"]


@pytest.mark.parametrize("args,message", [
    (["--train", "--optimizer", "lion"], "unknown optimizer 'lion'"),
    (["--train", "--trainable", "head.*"], "matches no parameter"),
    (["--train", "--freeze", "*"], "nothing is trainable"),
    (["--trainable", "fc.*"], "--trainable needs --train"),
    (["--optimizer", "adam"], "--optimizer needs --train"),
])
def test_bad_input_is_one_line_and_exit_2(args, message):
    result = CliRunner().invoke(cli, ["table", "lenet5", *args])
    assert result.exit_code == 2
    assert message in result.output and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1
