"""Receptive fields: published values, the lecture's 3x3 argument, and the gradient oracle on every zoo model."""
import pytest
import torch
import torch.nn.functional as F
from gradient_field import measure
from torch import nn

import cnnprofile
from cnnprofile.models import list_models
from cnnprofile.analyses.receptive.fields import receptive_fields

# Araujo, Norris and Sim, "Computing receptive fields of convolutional neural networks", Distill 2019:
# VGG-16 pool1..pool5 receptive fields and strides, pool5's effective padding; AlexNet's last pooling.
VGG16_POOLS = {"features.4": (6, 2), "features.9": (16, 4), "features.16": (44, 8), "features.23": (100, 16),
               "features.30": (212, 32)}


def _by_name(profile):
    return {r.name: r for r in profile.layers}


def test_vgg16_matches_distill_per_stage():
    rows = _by_name(receptive_fields("vgg16"))
    for name, (size, stride) in VGG16_POOLS.items():
        assert (rows[name].receptive_field, rows[name].effective_stride) == (size, stride), name
    assert rows["features.30"].effective_padding == 90
    assert rows["classifier.0"].whole_input and rows["classifier.0"].receptive_field is None


def test_alexnet_matches_distill():
    last = receptive_fields("alexnet").last_feature_map()
    assert (last.receptive_field, last.effective_stride) == (195, 32)


def test_rows_line_up_with_the_layer_table():
    for name in ("lenet5", "vgg11_lrn", "googlenet", "resnet18", "xception", "se_resnet50"):
        ours = [r.name for r in receptive_fields(name).layers]
        assert ours == [r.name for r in cnnprofile.profile(name).layers[1:]], name


def test_readme_table_is_what_the_code_gives():
    from cnnprofile.lecture.zoo_table import markdown_last_maps
    from cnnprofile.analyses.receptive.fields import zoo_last_feature_maps

    with open("README.md") as f:
        assert markdown_last_maps(zoo_last_feature_maps()) in f.read()


@pytest.mark.slow
@pytest.mark.parametrize("name", [s.name for s in list_models()])
def test_gradient_oracle_on_every_zoo_model(name):
    m = measure(name, axis=0, multiple=32 if name.startswith("yolov2") else 1)
    if m.predicted is None:  # SENet: the channel gate sees the whole image, so every pixel has a gradient
        assert m.measured == (0, m.input_size - 1)
        assert receptive_fields(name).last_feature_map().whole_input
    else:
        assert m.measured == m.predicted


def test_gradient_oracle_on_the_second_axis():
    m = measure("vgg16", axis=1, row="features.23")
    assert m.measured == m.predicted and m.predicted[1] - m.predicted[0] + 1 == 100


def test_torchvision_resnet50_places_the_stride_differently():
    # The paper's (Caffe) ResNet-50 strides in the first 1x1 of a downsampling block, torchvision's (v1.5) in
    # the 3x3: that 3x3 then slides over the finer grid, adding 2 x 4, 2 x 8 and 2 x 16 pixels fewer
    # in layer2, layer3 and layer4: 483 - 56 = 427.
    m = measure("torchvision:resnet50", axis=0)
    assert m.measured == m.predicted and m.measured[1] - m.measured[0] + 1 == 427
    v1 = receptive_fields("resnet50").last_feature_map()
    v15 = receptive_fields("resnet50", kwargs={"stride_in_3x3": True}).last_feature_map()
    assert (v1.receptive_field, v15.receptive_field) == (483, 427)


def _stack(n, kernel, channels=16):
    return nn.Sequential(*[nn.Conv2d(channels, channels, kernel, padding=kernel // 2, bias=False) for _ in range(n)])


def test_lecture_three_3x3_see_what_one_7x7_sees_with_fewer_weights():
    c, size = 16, 56
    shape = (1, c, size, size)
    two, three, seven = _stack(2, 3, c), _stack(3, 3, c), _stack(1, 7, c)
    assert receptive_fields(two, shape).layers[-1].receptive_field == 5
    assert receptive_fields(three, shape).layers[-1].receptive_field == 7
    assert receptive_fields(seven, shape).layers[-1].receptive_field == 7
    p3, p7 = cnnprofile.profile(three, shape), cnnprofile.profile(seven, shape)
    assert (p3.totals.params, p7.totals.params) == (27 * c * c, 49 * c * c)
    assert (p3.totals.macs, p7.totals.macs) == (27 * c * c * size * size, 49 * c * c * size * size)


class _Uneven(nn.Module):
    """Different kernels, strides, paddings and dilations per axis, a cat and a residual add."""

    def __init__(self):
        super().__init__()
        self.a = nn.Conv2d(2, 4, (3, 5), stride=(1, 2), padding=(1, 2), dilation=(2, 1))
        self.b = nn.Conv2d(4, 4, (5, 3), stride=(2, 1), padding=(4, 1), dilation=(2, 1))
        self.c = nn.Conv2d(4, 4, 3, padding=1)

    def forward(self, x):
        y = self.b(self.a(x))
        return torch.cat([y, self.c(y) + y], dim=1)


@pytest.mark.parametrize("axis", [0, 1])
def test_gradient_oracle_per_axis_on_uneven_geometry(axis):
    m = measure(_Uneven(), axis=axis, input_size=(1, 2, 40, 40), narrow=40)
    assert m.measured == m.predicted
    last = receptive_fields(_Uneven(), (1, 2, 40, 40)).layers[-1]
    assert isinstance(last.receptive_field, tuple) and len(set(last.receptive_field)) == 2


def _extent_per_output(model, x):
    """(first, last) input index with a non-zero gradient, for every output position of a 1-D/3-D net."""
    model = model.eval()
    with torch.no_grad():
        for p in model.parameters():
            p.abs_().add_(0.1)
    x = x.clone().requires_grad_(True)
    out = model(x)
    extents = []
    for o in range(out.shape[2]):
        x.grad = None
        index = (0, slice(None), o) + (slice(None),) * (out.dim() - 3)
        out[index].sum().backward(retain_graph=True)
        nz = torch.nonzero(x.grad[0].abs().flatten(0, 0).sum(0).reshape(x.shape[2], -1).sum(1) > 0).flatten()
        extents.append((int(nz[0]), int(nz[-1])))
    return extents


def test_transposed_convolution_has_a_fractional_stride():
    model = nn.Sequential(nn.Conv1d(1, 2, 3, stride=2, padding=1), nn.ConvTranspose1d(2, 2, 4, stride=2, padding=1))
    rf = receptive_fields(model, (1, 1, 64)).layers[-1]
    assert rf.effective_stride == 1  # 2 then 1/2
    extents = _extent_per_output(model, torch.rand(1, 1, 64))
    interior = extents[8:-8]
    assert max(hi - lo + 1 for lo, hi in interior) == rf.receptive_field
    inner = receptive_fields(nn.ConvTranspose1d(1, 1, 4, stride=2, padding=1), (1, 1, 8)).layers[-1]
    assert inner.effective_stride == 0.5


def test_three_dimensional_convolutions_and_interpolation():
    model = nn.Sequential(nn.Conv3d(1, 2, 3, stride=2, padding=1), nn.Conv3d(2, 2, 3, padding=1))
    rf = receptive_fields(model, (1, 1, 16, 16, 16)).layers[-1]
    assert (rf.receptive_field, rf.effective_stride) == (7, 2)
    extents = _extent_per_output(model, torch.rand(1, 1, 16, 16, 16))
    assert max(hi - lo + 1 for lo, hi in extents[1:-1]) == 7

    class Up(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv1d(1, 1, 3, stride=2, padding=1)

        def forward(self, x):
            return F.interpolate(self.conv(x), scale_factor=2, mode="linear")

    rf = receptive_fields(Up(), (1, 1, 32)).layers[-1]
    assert (rf.receptive_field, rf.effective_stride) == (5, 1)  # 3, then two taps 2 pixels apart
    extents = _extent_per_output(Up(), torch.rand(1, 1, 32))
    assert max(hi - lo + 1 for lo, hi in extents[2:-2]) == 5


class _Shifted(nn.Module):
    def __init__(self, crop):
        super().__init__()
        self.conv, self.crop = nn.Conv2d(1, 1, 3), crop

    def forward(self, x):
        return self.conv(x) + x[:, :, self.crop:self.crop + 14, self.crop:self.crop + 14]


def test_residual_branches_out_of_step_are_flagged():
    assert receptive_fields(_Shifted(1), (1, 1, 16, 16)).layers[-1].aligned
    shifted = receptive_fields(_Shifted(0), (1, 1, 16, 16)).layers[-1]
    # Unit 0: pixels 0..2 through the convolution, pixel 0 through the shortcut: centres 1 and 0.
    assert not shifted.aligned and (shifted.receptive_field, shifted.effective_padding) == (3, 0)


def test_an_op_without_a_rule_is_named_not_guessed():
    class Rolled(nn.Module):
        def forward(self, x):
            return torch.roll(x, 1, dims=2) * 2

    (row,) = receptive_fields(Rolled(), (1, 1, 8, 8)).layers
    assert row.receptive_field is None and row.unknown_ops == ("aten.roll",)


def test_the_users_model_is_left_as_it_was():
    model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4)).train()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    receptive_fields(model, (1, 3, 8, 8))
    assert model.training and all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    assert all(p.device.type == "cpu" for p in model.parameters())
