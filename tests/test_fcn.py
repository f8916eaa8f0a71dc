"""The fully convolutional conversion: same numbers at the native size (real CPU weights), a grid beyond it, each
grid cell equal to the original network run on that window, and one sentence for what it cannot convert."""
import subprocess
import sys

import pytest
import torch
import torchvision
from click.testing import CliRunner
from torch import nn

import cnnprofile
from cnnprofile.cli import cli
from cnnprofile.errors import InputError
from cnnprofile.models import get_model_spec


class Hand(nn.Module):
    """A hand-written net: view(n, -1), a dense stack with functional ReLU and dropout, a softmax over the last
    axis (the classes, which become the channels)."""

    def __init__(self):
        super().__init__()
        self.conv1, self.conv2 = nn.Conv2d(3, 8, 3), nn.Conv2d(8, 6, 3, stride=2)
        self.fc1, self.fc2 = nn.Linear(6 * 5 * 5, 16), nn.Linear(16, 5)

    def forward(self, x):
        x = torch.relu(self.conv2(torch.relu(self.conv1(x))))
        x = x.view(x.size(0), -1)
        x = nn.functional.dropout(nn.functional.relu(self.fc1(x)), 0.5, self.training)
        return torch.softmax(self.fc2(x), dim=-1)


def _cpu(builder):
    torch.manual_seed(0)
    return builder().eval()


CASES = [("zoo alexnet", lambda: get_model_spec("alexnet").build(), (3, 227, 227)),
         ("zoo vgg16", lambda: get_model_spec("vgg16").build(), (3, 224, 224)),
         ("torchvision alexnet", torchvision.models.alexnet, (3, 224, 224)),
         ("torchvision vgg16", torchvision.models.vgg16, (3, 224, 224)),
         ("hand-written", Hand, (3, 13, 13))]


@pytest.mark.parametrize("builder, size", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_same_outputs_at_the_native_size(builder, size):
    model = _cpu(builder)
    fcn = cnnprofile.fully_convolutional(model, size)
    x = torch.randn(1, *size)
    with torch.no_grad():
        expected, got = model(x), fcn(x)
    assert got.shape == (*expected.shape, 1, 1)
    assert (got.flatten(1) - expected).abs().max().item() <= 1e-5
    assert any(isinstance(m, nn.Linear) for m in model.modules())  # the user's model is untouched
    assert not any(isinstance(m, nn.Linear) for m in fcn.modules())


def test_every_grid_cell_is_the_network_on_its_window():
    """The lecture's claim: one pass of the converted net gives what the net gives on each window."""
    model = _cpu(Hand)
    fcn = cnnprofile.fully_convolutional(model, (3, 13, 13))
    x = torch.randn(1, 3, 21, 25)
    with torch.no_grad():
        grid = fcn(x)
        assert grid.shape == (1, 5, 5, 7)  # stride 2: (21 - 13) / 2 + 1, (25 - 13) / 2 + 1
        for i in range(5):
            for j in range(7):
                window = model(x[:, :, 2 * i:2 * i + 13, 2 * j:2 * j + 13])
                assert (grid[:, :, i, j] - window).abs().max().item() <= 1e-6


def test_vgg16_at_448_gives_the_lectures_8x8_grid():
    with torch.device("meta"):
        fcn = cnnprofile.fully_convolutional("vgg16")
    p = cnnprofile.profile(fcn, (1, 3, 448, 448))
    assert p.output_shapes[0][1] == (1, 1000, 8, 8)
    first = next(r for r in p.layers if r.name == "classifier.0")
    assert (first.type, first.kernel_size) == ("Conv2d", (7, 7))
    # The 7x7 convolution over 512 maps has the dense layer's 25088 x 4096 weights (+ biases).
    assert first.params == 512 * 7 * 7 * 4096 + 4096


def test_torchvision_vgg16_drops_its_adaptive_pooling():
    with torch.device("meta"):
        fcn = cnnprofile.fully_convolutional("torchvision:vgg16")
    assert not any(isinstance(m, nn.AdaptiveAvgPool2d) for m in fcn.modules())
    p = cnnprofile.profile(fcn, (1, 3, 448, 448))
    assert p.output_shapes[0][1] == (1, 1000, 8, 8)  # kept, the adaptive pooling would make it 1x1
    assert "avgpool" not in {r.name for r in p.layers}


@pytest.mark.parametrize("spec, words", [
    ("resnet50", "pools its last feature map globally (avgpool)"),
    ("torchvision:googlenet", "pools its last feature map globally"),
    ("darknet19", "has no dense layer"),
    ("yolov1", "view (call method)"),
])
def test_what_it_cannot_convert_is_one_sentence(spec, words):
    with torch.device("meta"), pytest.raises(InputError, match=".*") as e:
        cnnprofile.fully_convolutional(spec)
    assert words in str(e.value) and "\n" not in str(e.value)


def test_a_dense_layer_over_a_vector_is_refused():
    mlp = nn.Sequential(nn.Linear(784, 10))
    with pytest.raises(InputError, match="reads a 1x784 tensor .* not a flattened spatial map"):
        cnnprofile.fully_convolutional(mlp, (784,))


def test_the_cli_flag_gives_the_grid():
    r = CliRunner().invoke(cli, ["table", "vgg16", "--fully-conv", "--input", "3x448x448"])
    assert r.exit_code == 0, r.output
    rows = [line.split() for line in r.output.splitlines() if line.startswith("CONV")]
    assert rows[-3][:4] == ["CONV7-4096", "classifier.0", "Conv2d", "8x8x4096"]
    assert rows[-1][:4] == ["CONV1-1000", "classifier.6", "Conv2d", "8x8x1000"]
    assert r.output.startswith("vgg16 (fully convolutional): input 1x3x448x448")


def test_the_cli_flag_on_a_model_it_cannot_convert_is_one_line_and_exit_2():
    proc = subprocess.run([sys.executable, "-m", "cnnprofile", "table", "resnet50", "--fully-conv"],
                          capture_output=True, text=True)
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.count("\n") == 1 and proc.stderr.startswith("Error: resnet50 pools its last feature map")


def test_the_flag_holds_for_one_command_only():
    runner = CliRunner()
    assert runner.invoke(cli, ["table", "vgg16", "--fully-conv"]).exit_code == 0
    after = runner.invoke(cli, ["table", "vgg16"])
    assert "FC-4096" in after.output and "CONV7-4096" not in after.output
