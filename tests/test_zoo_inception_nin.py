"""Inception-v3, Inception-v4 and Network in Network against references we did not write: torchvision's
Inception-v3 and its weights metadata, timm's Inception-v4, the papers' grid sizes and the NIN prototxt's widths."""
import pytest
import torch
import torchvision
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

import cnnprofile
from cnnprofile.models import get_model_spec
from cnnprofile.models.inception_v3 import inception_v3
from cnnprofile.models.inception_v4 import inception_v4
from cnnprofile.models.nin import nin


def _meta(builder, **kwargs) -> nn.Module:
    with torch.device("meta"):
        return builder(**kwargs).eval()


def _params(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def _macs(model: nn.Module, size: int) -> int:
    counter = FlopCounterMode(display=False)
    with counter:
        model(torch.empty(1, 3, size, size, device="meta"))
    return counter.get_total_flops() // 2


def _shapes_after(model: nn.Module, modules, size: int) -> list:
    seen = []
    hooks = [m.register_forward_hook(lambda m, i, o: seen.append(tuple(o.shape[1:]))) for m in modules]
    model(torch.empty(1, 3, size, size, device="meta"))
    for h in hooks:
        h.remove()
    return seen


# --- Inception-v3 ------------------------------------------------------------------------------------------

TV_V3 = torchvision.models.Inception_V3_Weights.IMAGENET1K_V1.meta  # metadata only, nothing is downloaded


def test_inception_v3_state_dict_lines_up_with_torchvision():
    ours = _meta(inception_v3).state_dict()
    theirs = _meta(torchvision.models.inception_v3, weights=None, aux_logits=True, init_weights=False).state_dict()
    assert {k: tuple(v.shape) for k, v in ours.items()} == {k: tuple(v.shape) for k, v in theirs.items()}


def test_inception_v3_reconciles_with_torchvision_num_params():
    # torchvision's 27,161,264 counts the auxiliary head; an inference profile counts it as unused.
    p = cnnprofile.profile("inception_v3")
    aux = _params(_meta(torchvision.models.inception_v3, weights=None, aux_logits=True, init_weights=False).AuxLogits)
    assert p.unused_params == aux == 3_326_696
    assert p.totals.params + p.unused_params == TV_V3["num_params"] == 27_161_264
    assert p.totals.params == _params(_meta(inception_v3, aux_logits=False)) == 23_834_568
    assert get_model_spec("inception_v3").published.params_include_unused


def test_inception_v3_macs_match_torchvision_ops_and_its_own_model():
    p = cnnprofile.profile("inception_v3")
    assert p.totals.macs == pytest.approx(TV_V3["_ops"] * 1e9, rel=0.01)
    tv = _meta(torchvision.models.inception_v3, weights=None, aux_logits=True, init_weights=False)
    assert _macs(tv, 299) == _macs(_meta(inception_v3), 299) == p.totals.macs


def test_inception_v3_grid_sizes():
    m = _meta(inception_v3)
    mods = [m.maxpool2, m.Mixed_5d, m.Mixed_6a, m.Mixed_6e, m.Mixed_7a, m.Mixed_7c]
    assert _shapes_after(m, mods, 299) == [(192, 35, 35), (288, 35, 35), (768, 17, 17), (768, 17, 17),
                                           (1280, 8, 8), (2048, 8, 8)]


def test_inception_v3_aux_head_only_in_training():
    torch.manual_seed(0)
    m = inception_v3()
    called = []
    m.AuxLogits.register_forward_hook(lambda mod, i, o: called.append(mod))
    with torch.no_grad():
        out = m.eval()(torch.randn(1, 3, 299, 299))
        assert isinstance(out, torch.Tensor) and out.shape == (1, 1000) and called == []
        logits, aux = m.train()(torch.randn(2, 3, 299, 299))
    assert logits.shape == aux.shape == (2, 1000) and len(called) == 1
    assert inception_v3(aux_logits=False).AuxLogits is None


# --- Inception-v4 ------------------------------------------------------------------------------------------

def _timm_v4() -> nn.Module:
    timm = pytest.importorskip("timm")
    with torch.device("meta"):
        return timm.create_model("inception_v4", pretrained=False).eval()


def test_inception_v4_parameters_equal_timm():
    theirs = _params(_timm_v4())
    assert _params(_meta(inception_v4)) == theirs == get_model_spec("inception_v4").published.params
    assert cnnprofile.profile("inception_v4").totals.params == theirs


def test_inception_v4_macs_equal_timm_through_our_analyzer_and_flop_counter():
    ours, theirs = cnnprofile.profile("inception_v4"), cnnprofile.profile("timm:inception_v4")
    # Same convolutions and FC on the same grids; timm's 1x7/7x1 order swaps change nothing.
    assert ours.totals.macs == theirs.totals.macs
    assert _macs(_meta(inception_v4), 299) == _macs(_timm_v4(), 299) == ours.totals.macs


def test_inception_v4_grid_sizes_are_the_papers():
    m = _meta(inception_v4)
    mods = [m.stem[3], m.stem[4], m.stem, m.inception_a, m.reduction_a, m.inception_b, m.reduction_b, m.inception_c]
    # Figure 3: 73x73x160, 71x71x192, 35x35x384; Figures 4-8: 384@35, 1024@17, 1024@17, 1536@8, 1536@8.
    assert _shapes_after(m, mods, 299) == [(160, 73, 73), (192, 71, 71), (384, 35, 35), (384, 35, 35),
                                           (1024, 17, 17), (1024, 17, 17), (1536, 8, 8), (1536, 8, 8)]
    assert (len(m.inception_a), len(m.inception_b), len(m.inception_c)) == (4, 7, 3)


def test_inception_v4_real_forward():
    torch.manual_seed(0)
    with torch.no_grad():
        out = inception_v4().eval()(torch.randn(1, 3, 299, 299))
    assert out.shape == (1, 1000) and torch.isfinite(out).all()


# --- Network in Network ------------------------------------------------------------------------------------

# The nin_imagenet prototxt, by hand: (kernel, in, out, output side) of its 12 convolutions at 224x224.
NIN_CONVS = [(11, 3, 96, 54), (1, 96, 96, 54), (1, 96, 96, 54), (5, 96, 256, 27), (1, 256, 256, 27),
             (1, 256, 256, 27), (3, 256, 384, 13), (1, 384, 384, 13), (1, 384, 384, 13), (3, 384, 1024, 6),
             (1, 1024, 1024, 6), (1, 1024, 1000, 6)]


def test_nin_counts_hand_summed_from_the_prototxt():
    params = sum(k * k * c_in * c_out + c_out for k, c_in, c_out, _ in NIN_CONVS)
    macs = sum(k * k * c_in * c_out * side * side for k, c_in, c_out, side in NIN_CONVS)
    p = cnnprofile.profile("nin")
    assert p.totals.params == _params(_meta(nin)) == params == 7_595_176
    assert p.totals.macs == _macs(_meta(nin), 224) == macs == 1_100_188_800
    # The model page's "29MB" snapshot: float32 weights, rounded to whole MiB.
    assert round(params * 4 / 2**20) == 29


def test_nin_sizes_and_no_fully_connected_layer():
    m = _meta(nin)
    convs = [c for c in m.features if isinstance(c, nn.Conv2d)]
    assert [s[1] for s in _shapes_after(m, convs, 224)] == [side for *_, side in NIN_CONVS]
    pools = [x for x in m.features if isinstance(x, nn.MaxPool2d)]
    assert [s[1] for s in _shapes_after(m, pools, 224)] == [27, 13, 6]
    assert not any(isinstance(x, nn.Linear) for x in m.modules())
    assert [n for n, c in m.features.named_children() if isinstance(c, nn.Conv2d)][:3] == ["conv1", "cccp1", "cccp2"]


def test_nin_real_forward_takes_other_sizes():
    torch.manual_seed(0)
    with torch.no_grad():
        for size in (224, 160):
            out = nin().eval()(torch.randn(1, 3, size, size))
            assert out.shape == (1, 1000) and torch.isfinite(out).all()
