"""Checks of ResNet (v1 and torchvision's v1.5), SE-ResNet and Xception beyond the zoo's published totals."""
import pytest
import torch
import torchvision
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from cnnprofile.models.resnet import Bottleneck, build_resnet, resnet18, resnet50
from cnnprofile.models.senet import SEBottleneck, SqueezeExcitation, build_se_resnet, se_resnet50
from cnnprofile.models.xception import SeparableConv2d, XceptionModule, xception


def _meta(builder, *args, **kwargs) -> nn.Module:
    with torch.device("meta"):
        return builder(*args, **kwargs).eval()


def _params(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def _macs(model: nn.Module, size: int = 224) -> int:
    counter = FlopCounterMode(display=False)
    with counter:
        out = model(torch.empty(1, 3, size, size, device="meta"))
    assert out.shape == (1, 1000)
    return counter.get_total_flops() // 2


# --- ResNet ------------------------------------------------------------------------------------------------

TV_WEIGHTS = {50: torchvision.models.ResNet50_Weights, 101: torchvision.models.ResNet101_Weights,
              152: torchvision.models.ResNet152_Weights}


@pytest.mark.parametrize("depth", [50, 101, 152])
def test_resnet_v1_5_matches_torchvision_metadata(depth):
    meta = TV_WEIGHTS[depth].IMAGENET1K_V1.meta  # metadata only, nothing is downloaded
    model = _meta(build_resnet, depth, stride_in_3x3=True)
    assert _params(model) == meta["num_params"]
    assert _macs(model) == pytest.approx(meta["_ops"] * 1e9, rel=0.01)


def test_resnet50_state_dict_lines_up_with_torchvision():
    ours = _meta(resnet50).state_dict()
    theirs = _meta(torchvision.models.resnet50, weights=None).state_dict()
    assert list(ours) == list(theirs)
    assert {k: tuple(v.shape) for k, v in ours.items()} == {k: tuple(v.shape) for k, v in theirs.items()}


def test_stride_sits_in_the_1x1_in_v1_and_in_the_3x3_in_v1_5():
    v1, v1_5 = _meta(resnet50), _meta(resnet50, stride_in_3x3=True)
    for stage in ("layer2", "layer3", "layer4"):
        a, b = getattr(v1, stage)[0], getattr(v1_5, stage)[0]
        assert (a.conv1.stride, a.conv2.stride) == ((2, 2), (1, 1))
        assert (b.conv1.stride, b.conv2.stride) == ((1, 1), (2, 2))
        assert a.downsample[0].stride == b.downsample[0].stride == (2, 2)
    assert all(m.stride == (1, 1) for m in v1.layer1.modules() if isinstance(m, nn.Conv2d))


def test_v1_5_costs_exactly_the_full_resolution_first_1x1s_more():
    # Only conv1 of the three downsampling blocks changes: in_channels x planes x (H^2 - (H/2)^2).
    extra = sum(c_in * planes * (h * h - (h // 2) ** 2)
                for c_in, planes, h in ((256, 128, 56), (512, 256, 28), (1024, 512, 14)))
    assert _macs(_meta(resnet50, stride_in_3x3=True)) - _macs(_meta(resnet50)) == extra


def test_resnet_block_layout_is_table_one():
    m = _meta(build_resnet, 152)
    assert [len(getattr(m, f"layer{i}")) for i in range(1, 5)] == [3, 8, 36, 3]
    # Projections only where the shape changes (option B): the first block of each stage.
    projected = [name for name, mod in m.named_modules() if name.endswith("downsample")]
    assert projected == [f"layer{i}.0.downsample" for i in range(1, 5)]
    assert all(isinstance(b, Bottleneck) for b in m.layer3)
    assert all(c.bias is None for c in m.modules() if isinstance(c, nn.Conv2d))


def test_resnet18_runs_on_cpu():
    torch.manual_seed(0)
    with torch.no_grad():
        out = resnet18().eval()(torch.randn(1, 3, 224, 224))
    assert out.shape == (1, 1000) and torch.isfinite(out).all()


def test_unknown_depth_is_refused():
    with pytest.raises(ValueError):
        build_resnet(42)


# --- SE-ResNet ---------------------------------------------------------------------------------------------

def test_se_block_parameters_follow_the_formula():
    # Two FCs with biases: C*C/r + C/r + C/r*C + C.
    for c in (256, 512, 1024, 2048):
        assert _params(SqueezeExcitation(c, 16)) == 2 * c * c // 16 + c // 16 + c
    model, plain = _meta(se_resnet50), _meta(resnet50)
    blocks = [m for m in model.modules() if isinstance(m, SEBottleneck)]
    assert len(blocks) == 16
    per_block = [_params(b.se) for b in blocks]
    assert per_block == [2 * b.out_channels ** 2 // 16 + b.out_channels // 16 + b.out_channels for b in blocks]
    assert _params(model) - _params(plain) == sum(per_block)


def test_se_resnet_reuses_the_paper_resnet():
    model = _meta(build_se_resnet, 101)
    assert [len(getattr(model, f"layer{i}")) for i in range(1, 5)] == [3, 4, 23, 3]
    assert (model.layer2[0].conv1.stride, model.layer2[0].conv2.stride) == ((2, 2), (1, 1))


def test_se_scales_the_residual_branch_before_the_addition():
    torch.manual_seed(0)
    block = SEBottleneck(256, 64).eval()
    x = torch.randn(2, 256, 8, 8)
    with torch.no_grad():
        block.se.fc2.bias.fill_(-1e4)  # sigmoid -> 0: the branch vanishes, only relu(identity) is left
        assert torch.equal(block(x), torch.relu(x))
        block.se.fc2.bias.fill_(1e4)  # sigmoid -> 1: a plain bottleneck with the same weights
        plain = Bottleneck(256, 64).eval()
        plain.load_state_dict({k: v for k, v in block.state_dict().items() if not k.startswith("se.")})
        assert torch.allclose(block(x), plain(x))


# --- Xception ----------------------------------------------------------------------------------------------

def test_xception_sizes_and_layout():
    model = _meta(xception)
    sizes = []
    hooks = [m.register_forward_hook(lambda m, i, o: sizes.append(o.shape[-1]))
             for m in [model.entry_flow[0], model.entry_flow[3], *model.entry_flow[6:], model.middle_flow[0],
                       model.exit_flow[0]]]
    _macs(model, 299)
    for h in hooks:
        h.remove()
    assert sizes == [149, 147, 74, 37, 19, 19, 10]
    assert len(model.middle_flow) == 8 and all(m.shortcut is None for m in model.middle_flow)
    separable = [m for m in model.modules() if isinstance(m, SeparableConv2d)]
    assert len(separable) == 2 + 2 + 2 + 8 * 3 + 2 + 2
    assert all(c.bias is None for c in model.modules() if isinstance(c, nn.Conv2d))
    assert all(m.depthwise.groups == m.depthwise.in_channels for m in separable)


def test_xception_module_relu_does_not_touch_the_shortcut_input():
    module = XceptionModule(8, (8, 8, 8), downsample=False).eval()
    x = torch.randn(1, 8, 5, 5)
    kept = x.clone()
    with torch.no_grad():
        out = module(x)
        assert torch.equal(x, kept)
        assert torch.allclose(out, module.branch(x) + x)
    assert isinstance(module.branch[0], nn.ReLU)
    assert not isinstance(XceptionModule(8, (8,), downsample=True, relu_first=False).branch[0], nn.ReLU)
