"""The lecture's AlexNet and VGG-16 tables (shared/seeds), reproduced row by row at the lecture's precision.

The lecture's figures are transcribed here as it prints them; ``within_lecture_precision`` accepts a value
when the lecture's number is that value rounded or truncated to the digits shown (the lecture does both:
its "35K" for 34,848 rounds, its "37M" for 37,748,736 truncates). Trailing zeros of a whole number are not
significant ("800K" for 802,816 is two significant digits), and no figure is read with fewer than two.
"""
import math
import re

import pytest

import cnnprofile
from cnnprofile.present.formatting import layer_label
from cnnprofile.analyses.views import lecture_view, without_biases

_UNITS = {"": 1, "K": 1e3, "M": 1e6, "G": 1e9}


def within_lecture_precision(value: int, shown: str) -> bool:
    m = re.fullmatch(r"([\d.]+)([KMG]?)", shown.replace(",", "."))
    number, unit = m.group(1), _UNITS[m.group(2)]
    digits = number.replace(".", "").lstrip("0")
    significant = max(2, len(digits) if "." in number else len(digits.rstrip("0")))
    target = float(number) * unit
    step = 10 ** (math.floor(math.log10(target)) - significant + 1)
    return target - step / 2 <= value < target + step


def test_precision_helper_is_strict():
    assert within_lecture_precision(34_848, "35K") and within_lecture_precision(37_748_736, "37M")
    assert not within_lecture_precision(38_100_000, "37M") and not within_lecture_precision(33_000, "35K")
    assert within_lecture_precision(802_816, "800K") and not within_lecture_precision(812_000, "800K")
    assert within_lecture_precision(3_211_264, "3,2M") and not within_lecture_precision(3_400_000, "3,2M")


# Lecture, "AlexNet: arquitectura": layer, size, parameters (weights only, "sin contar bias"), operations (MACs).
ALEXNET = [
    ("INPUT", "227x227x3", None, None),
    ("CONV1", "55x55x96", "35K", "105M"),
    ("POOL1", "27x27x96", None, None),
    ("CONV2", "27x27x256", "307K", "223M"),
    ("POOL2", "13x13x256", None, None),
    ("CONV3", "13x13x384", "884K", "149M"),
    ("CONV4", "13x13x384", "1.3M", "224M"),  # the lecture's ungrouped conv4; the paper's is grouped (below)
    ("CONV5", "13x13x256", "442K", "74M"),
    ("POOL3", "6x6x256", None, None),
    ("FC6", "4096", "37M", "37M"),
    ("FC7", "4096", "16M", "16M"),
    ("FC8", "1000", "4M", "4M"),
]


def _hwc(shape):
    dims = list(shape[1:])
    return "x".join(map(str, dims[1:] + dims[:1])) if len(dims) == 3 else str(dims[0])


@pytest.fixture(scope="module")
def alexnet_rows():
    return lecture_view(without_biases(cnnprofile.profile("alexnet")))


@pytest.mark.parametrize("index", range(len(ALEXNET)), ids=[r[0] for r in ALEXNET])
def test_alexnet_table_row(alexnet_rows, index):
    name, size, params, ops = ALEXNET[index]
    row = alexnet_rows[index]
    assert _hwc(row.output_shape) == size
    if name == "CONV4":
        # Paper-faithful: conv4 is split over two GPUs (groups=2), so it has half the lecture's weights.
        assert row.params == 3 * 3 * 192 * 384 == 663_552
        assert row.macs == 13 * 13 * 384 * 3 * 3 * 192 == 112_140_288
        # ...and the lecture's figures are exactly the ungrouped layer's.
        assert within_lecture_precision(2 * row.params, params) and within_lecture_precision(2 * row.macs, ops)
        return
    if params is None:
        assert row.params == 0 and row.macs == 0
    else:
        assert within_lecture_precision(row.params, params), (row.params, params)
        assert within_lecture_precision(row.macs, ops), (row.macs, ops)


def test_alexnet_has_exactly_the_lecture_rows(alexnet_rows):
    assert len(alexnet_rows) == len(ALEXNET)
    assert [r.kind for r in alexnet_rows] == ["input"] + ["conv", "pool"] * 2 + ["conv"] * 3 + ["pool"] + ["fc"] * 3


# Lecture, "VGG-16": layer, size, memory (activations), parameters (weights only, exact).
VGG16 = [
    ("INPUT", "224x224x3", "150K", 0),
    ("CONV3-64", "224x224x64", "3,2M", 1_728),
    ("CONV3-64", "224x224x64", "3,2M", 36_864),
    ("POOL2", "112x112x64", "800K", 0),
    ("CONV3-128", "112x112x128", "1,6M", 73_728),
    ("CONV3-128", "112x112x128", "1,6M", 147_456),
    ("POOL2", "56x56x128", "400K", 0),
    ("CONV3-256", "56x56x256", "800K", 294_912),
    ("CONV3-256", "56x56x256", "800K", 589_824),
    ("CONV3-256", "56x56x256", "800K", 589_824),
    ("POOL2", "28x28x256", "200K", 0),
    ("CONV3-512", "28x28x512", "400K", 1_179_648),
    ("CONV3-512", "28x28x512", "400K", 2_359_296),
    ("CONV3-512", "28x28x512", "400K", 2_359_296),
    ("POOL2", "14x14x512", "100K", 0),
    ("CONV3-512", "14x14x512", "100K", 2_359_296),
    ("CONV3-512", "14x14x512", "100K", 2_359_296),
    ("CONV3-512", "14x14x512", "100K", 2_359_296),
    ("POOL2", "7x7x512", "25K", 0),
    ("FC", "4096", "4096", 102_760_448),
    ("FC", "4096", "4096", 16_777_216),
    ("FC", "1000", "1000", 4_096_000),
]


@pytest.fixture(scope="module")
def vgg16_profile():
    return cnnprofile.profile("vgg16")


@pytest.mark.parametrize("index", range(len(VGG16)), ids=[f"{i}-{r[0]}" for i, r in enumerate(VGG16)])
def test_vgg16_table_row(vgg16_profile, index):
    label, size, memory, weights = VGG16[index]
    row = lecture_view(without_biases(vgg16_profile))[index]
    assert layer_label(row).startswith(label)
    assert _hwc(row.output_shape) == size
    assert within_lecture_precision(row.activation_elems, memory), (row.activation_elems, memory)
    assert row.params == weights


def test_vgg16_totals(vgg16_profile):
    t = vgg16_profile.totals
    rows = lecture_view(vgg16_profile)
    assert len(rows) == len(VGG16)
    # "15,2M x 4 bytes ~ 60,8MB": the lecture multiplies its rounded 15.2M, hence the 0.3% slack on bytes.
    assert within_lecture_precision(t.activation_elems, "15,2M")
    assert t.activation_bytes == 4 * t.activation_elems
    assert t.activation_bytes == pytest.approx(60.8e6, rel=3e-3)
    # "138M x 4 bytes = 552MB", with biases (torchvision/fvcore convention) and without (the lecture's column).
    assert t.params == 138_357_544 and t.param_bytes == 4 * t.params
    assert t.param_bytes == pytest.approx(552e6, rel=3e-3)
    weights = without_biases(vgg16_profile).totals
    assert within_lecture_precision(weights.params, "138M") and weights.params == 138_357_544 - 13_416
    assert weights.params == sum(w for *_, w in VGG16)
