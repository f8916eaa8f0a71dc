"""The analyzer on tiny nets whose every count is computed by hand."""
import resource
from dataclasses import fields

import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_leaves
from torch.utils.flop_counter import FlopCounterMode

import cnnprofile
from cnnprofile.models import get_model_spec
from cnnprofile.records import KINDS, LayerRecord
from cnnprofile.analyses.formulas import FORMULAS
from cnnprofile.analyses.views import depth_view, lecture_view


class Residual(nn.Module):
    """Functional ops in forward(): F.relu, x + y, torch.cat, flatten, matmul, interpolate."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(4, 4, 3, padding=1, bias=False)
        self.proj = nn.Parameter(torch.randn(8 * 2 * 2, 5))

    def forward(self, x):
        y = F.relu(self.conv(x))
        y = x + y
        z = torch.cat([x, y], dim=1)  # 8 channels
        z = F.interpolate(z, scale_factor=0.5, mode="nearest")
        return torch.flatten(z, 1) @ self.proj


def test_conv_formula_by_hand():
    conv = nn.Conv2d(3, 8, kernel_size=3, stride=2, padding=1, groups=1, bias=True)
    p = cnnprofile.profile(conv, (2, 3, 9, 9))
    (row,) = p.layers[1:]
    out = 2 * 8 * 5 * 5  # (9 + 2 - 3) / 2 + 1 = 5
    assert row.output_shape == (2, 8, 5, 5)
    assert row.macs == out * 3 * 3 * 3
    assert row.flops == 2 * row.macs + out  # bias additions are FLOPs, not MACs
    assert row.params == 8 * 3 * 3 * 3 + 8 and row.bias_params == 8
    assert row.activation_elems == out and row.activation_bytes == 4 * out


def test_grouped_depthwise_and_transposed_conv_by_hand():
    grouped = cnnprofile.profile(nn.Conv2d(8, 16, 3, padding=1, groups=4, bias=False), (1, 8, 6, 6))
    assert grouped.totals.macs == 16 * 6 * 6 * (8 // 4) * 9
    depthwise = cnnprofile.profile(nn.Conv2d(8, 8, 3, padding=1, groups=8, bias=False), (1, 8, 6, 6))
    assert depthwise.totals.macs == 8 * 6 * 6 * 9
    deconv = cnnprofile.profile(nn.ConvTranspose2d(4, 2, 2, stride=2, bias=False), (1, 4, 3, 3))
    assert deconv.layers[1].output_shape == (1, 2, 6, 6)
    assert deconv.totals.macs == (4 * 3 * 3) * 2 * 4  # every input element meets C_out x k x k weights


def test_linear_and_pooling_by_hand():
    net = nn.Sequential(nn.MaxPool2d(2), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(3, 7))
    p = cnnprofile.profile(net, (1, 3, 8, 8))
    pool, gap, flat, fc = p.layers[1:]
    assert pool.flops == 3 * 4 * 4 * 4 and pool.macs == 0  # 4 inputs compared per output
    assert gap.flops == 3 * 4 * 4 and gap.activation_elems == 3
    assert flat.activation_elems == 0  # a view allocates nothing
    assert fc.macs == 3 * 7 and fc.flops == 2 * 3 * 7 + 7
    assert [r.kind for r in lecture_view(p)] == ["input", "pool", "pool", "fc"]


def test_functional_ops_are_seen_and_attributed():
    p = cnnprofile.profile(Residual(), (1, 4, 4, 4))
    rows = p.layers[1:]
    conv, own = rows[0], rows[1:]
    assert conv.name == "conv" and conv.macs == 4 * 4 * 4 * 4 * 9
    assert all(r.name == "(model)" for r in own)
    types = "+".join(r.type for r in own)
    for op in ("relu", "add", "cat", "upsample_nearest2d", "mm"):
        assert op in types, types
    assert sum(r.macs for r in own) == 32 * 5  # the matmul of the flattened 8x2x2 features
    assert own[0].params == 32 * 5  # the parent's own parameter goes with its own ops
    assert p.totals.params == 4 * 4 * 9 + 32 * 5
    assert not p.uncounted_ops


def test_uncounted_ops_are_listed_never_zero():
    class Sorts(nn.Module):
        def forward(self, x):
            return torch.sort(x, dim=1).values + 1

    assert "aten.sort" not in FORMULAS
    p = cnnprofile.profile(Sorts(), (1, 3, 4, 4))
    assert [u.op for u in p.uncounted_ops] == ["aten.sort"]
    assert p.uncounted_ops[0].count == 1 and p.uncounted_ops[0].layers == ("(model)",)
    assert "aten.sort" in p.layers[1].uncounted_ops


def test_dtype_changes_bytes_not_counts():
    f32 = cnnprofile.profile("vgg11")
    f16 = cnnprofile.profile("vgg11", dtype="float16")
    bf16 = cnnprofile.profile("vgg11", dtype=torch.bfloat16)
    assert f16.totals.macs == f32.totals.macs and f16.totals.activation_elems == f32.totals.activation_elems
    assert 2 * f16.totals.activation_bytes == f32.totals.activation_bytes == 2 * bf16.totals.activation_bytes
    assert 2 * f16.totals.param_bytes == f32.totals.param_bytes
    assert f16.dtype == "float16" and f16.element_size == 2


def test_reused_module_gets_a_row_per_call_and_its_parameters_once():
    class Twice(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(2, 2, 1)

        def forward(self, x):
            return self.conv(self.conv(x))

    p = cnnprofile.profile(Twice(), (1, 2, 3, 3))
    assert [r.name for r in p.layers[1:]] == ["conv", "conv"]
    assert [r.params for r in p.layers[1:]] == [6, 0]
    assert p.totals.macs == 2 * 9 * 2 * 2


def test_modules_that_never_run_are_reported_not_counted():
    class WithSpare(nn.Module):
        def __init__(self):
            super().__init__()
            self.used, self.spare = nn.Linear(4, 4), nn.Linear(4, 100)

        def forward(self, x):
            return self.used(x.flatten(1))

    p = cnnprofile.profile(WithSpare(), (1, 4, 1, 1))
    assert p.totals.params == 20 and p.unused_params == 500


def test_depth_view_rolls_up_blocks():
    net = nn.Sequential(nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU()), nn.Sequential(nn.Conv2d(2, 2, 3), nn.ReLU()))
    p = cnnprofile.profile(net, (1, 1, 7, 7))
    blocks = depth_view(p, 1)
    assert [(r.name, r.type) for r in blocks] == [("input", "Input"), ("0", "Sequential"), ("1", "Sequential")]
    assert blocks[2].output_shape == (1, 2, 3, 3)
    assert sum(r.macs for r in blocks) == p.totals.macs == 2 * 25 * 9 + 2 * 9 * 18


class LargestRealTensor(TorchDispatchMode):
    """Sees every op dispatched while active (after the engine's own recorder) and keeps the largest number of
    elements of any tensor an op returns that is not on the meta device."""

    def __init__(self):
        super().__init__()
        self.largest = 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        for t in tree_leaves(out):
            if isinstance(t, torch.Tensor) and t.device.type != "meta":
                self.largest = max(self.largest, t.numel())
        return out


def test_meta_device_allocates_nothing_real():
    # 256 x VGG-16 activations would be ~15.6 GB if they were real tensors.
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with LargestRealTensor() as seen:
        p = cnnprofile.profile("vgg16", batch=256)
    assert p.totals.activation_bytes > 15e9
    smallest_activation = min(r.activation_elems for r in p.layers if r.activation_elems)
    assert seen.largest < smallest_activation, (seen.largest, smallest_activation)
    grown = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before) * 1024  # kB on Linux
    assert grown < 1e9


def test_the_real_tensor_detector_sees_real_activations():
    with LargestRealTensor() as seen:
        nn.Conv2d(3, 8, 3)(torch.zeros(2, 3, 10, 10))
    assert seen.largest == 2 * 8 * 8 * 8


def test_input_too_small_names_the_layer():
    with pytest.raises(cnnprofile.CnnprofileError, match=r"features\.30.*MaxPool2d.*too small"):
        cnnprofile.profile("vgg16", (1, 3, 16, 16))


def test_dataframe_columns_are_the_record_fields_and_match_torchs_counts():
    p = cnnprofile.profile("resnet18")
    df = p.to_dataframe()
    # Optional columns (receptive field, traffic, roofline) are columns only of profiles enriched with them.
    assert list(df.columns) == [f.name for f in fields(LayerRecord) if f.name != "call_path" and "group" not in
                                f.metadata]
    assert len(df) == len(p.layers)
    with torch.device("meta"):
        model = get_model_spec("resnet18").build().eval()
    counter = FlopCounterMode(display=False)
    with counter, torch.no_grad():
        model(torch.empty(1, 3, 224, 224, device="meta"))
    assert int(df["macs"].sum()) == counter.get_total_flops() // 2
    assert int(df["params"].sum()) == sum(t.numel() for t in model.parameters())
    assert df.loc[0, "name"] == "input" and df.loc[0, "output_shape"] == (1, 3, 224, 224)
    assert set(df["kind"]) <= set(KINDS)


def test_a_childs_weight_used_by_the_parent_counts_where_it_is_read():
    class Borrow(nn.Module):  # like nn.MultiheadAttention handing out_proj.weight to a function
        def __init__(self):
            super().__init__()
            self.proj = nn.Linear(4, 3)

        def forward(self, x):
            return F.linear(x.flatten(1), self.proj.weight, self.proj.bias)

    p = cnnprofile.profile(Borrow(), (2, 4, 1, 1))
    assert p.totals.params == 15 and p.unused_params == 0
    (row,) = [r for r in p.layers if r.params]
    assert row.name == "(model)" and row.macs == 2 * 4 * 3


def test_lenet5_lecture_rows_follow_the_paper():
    # C1, S2, C3 (three connection groups), S4, C5, F6, RBF output: a user-written subsampling layer is a pool
    # because of what it computes, while torch's LocalResponseNorm (which pools internally) is never one.
    kinds = [(r.name, r.kind) for r in lecture_view(cnnprofile.profile("lenet5"))]
    assert [k for _, k in kinds] == ["input", "conv", "pool", "conv", "conv", "conv", "pool", "conv", "fc", "fc"]
    vgg_lrn = cnnprofile.profile("vgg11_lrn")
    assert any(r.type == "LocalResponseNorm" for r in vgg_lrn.layers)
    assert [r.name for r in lecture_view(vgg_lrn)][:3] == ["input", "features.0", "features.3"]
