"""`cnnprofile windows`: the sliding windows counted by hand, the FCN passes counted by torch's FlopCounterMode, the
cells' field from VGG-16's published pool5 field, and bad input in one line."""
import subprocess
import sys

import pytest
import torch
from click.testing import CliRunner
from torch.utils.flop_counter import FlopCounterMode

import cnnprofile
from cnnprofile.cli import cli
from cnnprofile.errors import InputError
from cnnprofile.lecture.windows import sliding_windows

VGG16_MACS = 15.47e9  # torchvision's weights metadata (_ops, GMACs) at 224x224


def _torch_macs(module, shape) -> int:
    counter = FlopCounterMode(display=False)
    with counter, torch.no_grad():
        module(torch.empty(shape, device="meta"))
    return counter.get_total_flops() // 2


@pytest.fixture(scope="module")
def vgg():
    return sliding_windows("vgg16", (448, 448), [(224, 224), (448, 448)])


def test_vgg16_native_windows_on_448(vgg):
    native = vgg.sizes[0]
    # (448 - 224) / 32 + 1 = 8 windows per axis at the FCN's stride of 32 pixels: the lecture's 8x8.
    assert native.windows == native.fcn_grid == (8, 8) and native.stride == (32, 32)
    assert native.sliding_macs == pytest.approx(64 * VGG16_MACS, rel=0.001)
    with torch.device("meta"):
        fcn = cnnprofile.fully_convolutional("vgg16")
    assert native.fcn_macs == _torch_macs(fcn, (1, 3, 448, 448))
    # At 448 every 3x3 convolution has 4 times the outputs; the head is the 123.6M dense MACs at 8x8 positions.
    head = 512 * 7 * 7 * 4096 + 4096 * 4096 + 4096 * 1000
    assert native.fcn_macs == 4 * (_torch_macs(fcn, (1, 3, 224, 224)) - head) + 64 * head
    assert native.ratio == pytest.approx(64 * VGG16_MACS / native.fcn_macs, rel=0.001)


def test_a_cell_sees_pool5s_field_plus_the_7x7_kernel(vgg):
    # pool5's field is 212 pixels, 32 apart (Araujo et al., Distill 2019): a 7x7 kernel on it sees 212 + 6 x 32.
    assert vgg.fcn_field == (404, 404) and vgg.fcn_stride == (32, 32) and vgg.fcn_padding == (90, 90)


def test_a_window_as_large_as_the_image_is_one_pass_either_way(vgg):
    whole = vgg.sizes[1]
    assert whole.windows == whole.fcn_grid == (1, 1) and whole.fcn_input == (224, 224)
    assert whole.sliding_macs == whole.fcn_macs  # the image resized to 224: the network once
    assert whole.cell_field == (808, 808) and whole.fcn_stride == (64, 64)  # twice the native field and stride


def test_the_lectures_grid_of_blocks():
    r = sliding_windows("alexnet", (450, 600), [(3, 3), (2, 2)], blocks=(6, 8))
    three, two = r.sizes
    # A 3x3 window slides over 6x8 blocks one block at a time: 4 x 6 positions; a 2x2 one: 5 x 7.
    assert (three.windows, two.windows) == ((4, 6), (5, 7))
    assert three.window == (225, 225) and three.stride == (75, 75)
    assert three.sliding_macs == 24 * cnnprofile.profile("alexnet").totals.macs


@pytest.mark.parametrize("args, message", [
    (["vgg16", "--image", "100x100"], "Error: the window 224x224 is larger than the 100x100 image"),
    (["vgg16", "--image", "448x448", "--stride", "0"], "Error: the stride must be at least 1"),
    (["vgg16", "--image", "448x448", "--blocks", "6x8", "--window-sizes", "7x7"],
     "Error: a window of 7x7 blocks does not fit in the grid of 6x8 blocks"),
    (["resnet50", "--image", "448x448"], "Error: resnet50 pools its last feature map globally"),
    (["vgg16", "--image", "big"], "Error: Invalid value for --image"),
])
def test_bad_input_is_one_line_and_exit_2(args, message):
    r = CliRunner().invoke(cli, ["windows", *args])
    assert r.exit_code == 2 and r.output.startswith(message) and r.output.count("\n") == 1, r.output


def test_bad_input_from_the_shell_has_no_traceback():
    proc = subprocess.run([sys.executable, "-m", "cnnprofile", "windows", "vgg16", "--image", "448x448",
                           "--window-sizes", "449"], capture_output=True, text=True)
    assert proc.returncode == 2 and proc.stdout == "" and proc.stderr.count("\n") == 1


def test_the_api_refuses_a_module():
    with pytest.raises(InputError, match="takes a model spec"):
        sliding_windows(torch.nn.Linear(2, 2), (448, 448))
