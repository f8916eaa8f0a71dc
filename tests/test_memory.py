"""Hand-computed memory cases, backward MACs against torch's FlopCounterMode, and the API's promises."""
import pytest
import torch
from torch import nn
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils.flop_counter import FlopCounterMode, conv_flop_count

from cnnprofile import list_models
from cnnprofile.errors import InputError
from cnnprofile.analyses.memory import memory
from cnnprofile.analyses.memory.fit import parse_size
from cnnprofile.sources import module_and_shape

F32 = 4


def _chain():
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(1, 4, 1, bias=False), nn.Conv2d(4, 8, 1, bias=False), nn.Conv2d(8, 2, 1, bias=False))


def test_chain_peak_is_the_largest_input_plus_output_of_one_layer():
    # Input 1x1x4x4 (16 elements, held by the caller throughout); outputs 64, 128 and 32 elements. Each layer's
    # input is freed once the next layer has run, so at most one layer's input and output are alive together.
    weights = (4 * 1 + 8 * 4 + 2 * 8) * F32
    x, out1, out2, out3 = 16 * F32, 64 * F32, 128 * F32, 32 * F32
    expected = weights + x + max(out1, out1 + out2, out2 + out3)
    r = memory(_chain(), (1, 1, 4, 4), device="cpu")
    assert r.peak_bytes == expected == 1040
    assert r.peak_layer == "1"  # the second conv's output makes the peak
    assert r.activations_at_peak_bytes == out1 + out2


def test_cuda_target_rounds_every_block_up_to_512_bytes():
    r = memory(_chain(), (1, 1, 4, 4), device="cuda")
    # weights (3 blocks) + input + the two outputs alive at the peak: six 512 B blocks, no matmul workspace
    assert r.peak_bytes == 6 * 512 and r.workspace_bytes == 0


@pytest.mark.parametrize("inplace", [False, True])
def test_in_place_relu_lowers_the_peak(inplace):
    model = nn.Sequential(nn.Conv2d(1, 8, 1, bias=False), nn.ReLU(inplace=inplace), nn.Conv2d(8, 1, 1, bias=False))
    weights, x, wide, out = (8 + 8) * F32, 16 * F32, 8 * 16 * F32, 16 * F32
    # out-of-place: conv1's output and ReLU's copy are alive together; in place: the ReLU allocates nothing
    expected = weights + x + (2 * wide if not inplace else wide + out)
    assert memory(model, (1, 1, 4, 4), device="cpu").peak_bytes == expected


def _two_convs():
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.Conv2d(8, 4, 3, padding=1))


def test_frozen_base_computes_no_input_gradient():
    # 2x3x8x8 input. conv1: 2*8*8*8 outputs x 3*9 = 27,648 MACs; conv2: 2*4*8*8 outputs x 8*9 = 36,864 MACs.
    conv1, conv2 = 2 * 8 * 64 * 27, 2 * 4 * 64 * 72
    frozen = memory(_two_convs(), (2, 3, 8, 8), train=True, optimizer="sgd", freeze=["0.*"], device="cpu")
    assert frozen.forward_macs == conv1 + conv2
    assert frozen.backward_macs == conv2  # conv2's weight gradient only: nothing below needs an input gradient
    assert frozen.trainable_params == 8 * 4 * 9 + 4 and frozen.frozen_params == 3 * 8 * 9 + 8
    full = memory(_two_convs(), (2, 3, 8, 8), train=True, optimizer="sgd", device="cpu")
    assert full.backward_macs == 2 * conv2 + conv1  # conv1 needs no input gradient: the input has none
    assert full.gradients_bytes == (3 * 8 * 9 + 8 + 8 * 4 * 9 + 4) * F32


@pytest.mark.parametrize("optimizer,slots", [("none", 0), ("sgd", 0), ("sgd-momentum", 1), ("adam", 2),
                                             ("adamw", 2)])
def test_optimizer_state_is_exact(optimizer, slots):
    r = memory(_two_convs(), (2, 3, 8, 8), train=True, optimizer=optimizer, trainable=["2.*"], device="cpu")
    assert r.optimizer_state_bytes == slots * (8 * 4 * 9 + 4) * F32


def test_last_matching_pattern_wins():
    r = memory(_two_convs(), (2, 3, 8, 8), train=True, rules=[("freeze", "*"), ("trainable", "0.bias")],
               device="cpu")
    assert r.trainable_params == 8


def test_the_users_module_is_left_untouched():
    model = _two_convs().train(False)
    model[0].weight.requires_grad_(False)
    state = {n: (p.dtype, p.device, p.requires_grad, p.data_ptr()) for n, p in model.named_parameters()}
    memory(model, (2, 3, 8, 8), train=True, optimizer="adam", amp="bf16", device="cpu")
    assert {n: (p.dtype, p.device, p.requires_grad, p.data_ptr()) for n, p in model.named_parameters()} == state
    assert not any(m.training for m in model.modules())
    assert all(p.grad is None for p in model.parameters())
    assert not model._forward_hooks and not model[0]._forward_pre_hooks


class _GroupedWeightGrads(TorchDispatchMode):
    """FlopCounterMode counts a grouped convolution's weight gradient as if it were dense (its formula transposes
    input and grad_output and loses the groups): ``groups`` times the real work. This records, with torch's own
    ``conv_flop_count``, how much it over-counts, so the comparison stays exact for LeNet's C3 and Xception."""

    def __init__(self):
        super().__init__()
        self.excess = 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        if func.overloadpacket is torch.ops.aten.convolution_backward and args[9] > 1 and args[10][1]:
            grad_out, x, weight, groups = args[0], args[1], args[2], args[9]
            t = lambda s: [s[1], s[0], *s[2:]]  # noqa: E731  (as torch's formula does)
            counted = conv_flop_count(t(list(x.shape)), t(list(grad_out.shape)), t(list(weight.shape)))
            self.excess += counted - counted // groups
        return out


@pytest.mark.parametrize("name", [m.name for m in list_models()])
def test_backward_macs_match_flop_counter_mode(name):
    """torch's FlopCounterMode counts convolutions and matrix products: so do our MACs."""
    module, shape, _ = module_and_shape(name, batch=2, device="meta")
    ours = memory(module, shape, train=True, optimizer="none", device="cpu")
    module.train()
    x = torch.empty(shape, device="meta")
    out = module(x)
    out = out[0] if isinstance(out, tuple) else out  # GoogLeNet's auxiliary heads: the loss uses the main one
    # A detector's grid (N, C, H, W) takes one target per cell.
    target = torch.zeros((shape[0], *out.shape[2:]), dtype=torch.long, device="meta")
    loss = nn.functional.cross_entropy(out, target)
    with FlopCounterMode(display=False) as counter, _GroupedWeightGrads() as grouped:
        loss.backward()
    assert ours.backward_macs * 2 == counter.get_total_flops() - grouped.excess


def test_amp_keeps_float32_weights_and_halves_saved_activations():
    model = _two_convs()
    fp32 = memory(model, (2, 3, 8, 8), train=True, device="cpu")
    bf16 = memory(model, (2, 3, 8, 8), train=True, device="cpu", amp="bf16")
    assert bf16.weights_bytes == fp32.weights_bytes
    # conv1's bf16 output and the ReLU's; conv2 also saves the bf16 copy of its weight (cast once, cached)
    assert bf16.saved_activations_bytes < fp32.saved_activations_bytes


def test_fit_finds_the_edge():
    model = _two_convs()
    limit = memory(model, (37, 3, 8, 8), device="cpu").peak_bytes
    r = memory(model, (1, 3, 8, 8), device="cpu", fit=limit)
    assert r.max_batch == 37 and r.peak_bytes <= limit < r.next_peak_bytes


@pytest.mark.parametrize("text,expected", [("24GB", 24 * 10**9), ("22GiB", 22 * 2**30), ("1.5 MB", 1_500_000),
                                           ("512B", 512), ("1kib", 1024)])
def test_parse_size(text, expected):
    assert parse_size(text) == expected


@pytest.mark.parametrize("kwargs,message", [
    ({"train": True, "optimizer": "rmsprop"}, "unknown optimizer"),
    ({"train": True, "trainable": ["head.*"]}, "matches no parameter"),
    ({"train": True, "freeze": ["*"]}, "nothing is trainable"),
    ({"amp": "int8"}, "not an autocast dtype"),
    ({"fit": "-3GB"}, "expected a positive number with a unit"),
    ({"fit": "0GB"}, "expected a positive number with a unit"),
    ({"fit": "24"}, "expected a positive number with a unit"),
    ({"fit": "1GB", "batch": 4}, "cannot be combined with batch"),
    ({"fit": 100}, "does not fit"),
])
def test_bad_input_is_one_clear_error(kwargs, message):
    with pytest.raises(InputError, match=message):
        memory(_two_convs(), (2, 3, 8, 8), device="cpu", **kwargs)


def test_the_package_is_callable_like_profile():
    import cnnprofile
    import cnnprofile.analyses.memory.fit  # noqa: F401  (a submodule import must not hide the entry point)

    assert cnnprofile.memory(_chain(), (1, 1, 4, 4), device="cpu").peak_bytes == 1040


def test_the_breakdown_adds_up_to_the_peak_on_cuda():
    r = memory("resnet18", batch=2, device="cuda")
    assert r.workspace_bytes > 33 * 2**20  # cuBLAS for the fc, and a 3x3 convolution's cuDNN workspace at the peak
    parts = {s.category for s in r.at_peak}
    assert r.peak_bytes == sum(s.bytes for s in r.at_peak) + 33 * 2**20
    assert parts <= {"weights", "buffers", "input", "activations", "workspace"}
