"""oneDNN's temporaries inside float32 CPU convolutions (``cnnprofile/analyses/memory/cpu_onednn.py``) against the
CPU allocator's accounting of the same real step (``tests/memory_oracle.py``), at PyTorch's default settings.

Every single-convolution case asserts that PyTorch hands it to oneDNN, so that none silently tests one of its
own kernels instead. Without this model the networks below are predicted 0.5% to 39% low (r3d_18's training
step: its shallow 3-D weight gradients run oneDNN's GEMM kernel with a 228 MB scratchpad); the figures before
and after are in docs/memory.md.
"""
import os
import subprocess
import sys

import pytest
import torch
import torchvision
from memory_oracle import agrees
from test_memory_cpu_conv import Out, TinyUNet, _backend_of
from torch import nn

from cnnprofile.analyses.memory import cpu_onednn

B = torch._C._ConvBackend
pytestmark = pytest.mark.skipif(cpu_onednn.vector_width() is None or not torch.backends.mkldnn.is_available(),
                                reason="oneDNN's x64 kernels (AVX2 or AVX-512) are what this models")


class ChannelsLast(nn.Module):
    """A convolution fed a channels-last input: oneDNN computes in that layout, reordering only the weight."""

    def __init__(self, conv):
        super().__init__()
        self.conv = conv.to(memory_format=torch.channels_last)

    def forward(self, x):
        return self.conv(x.contiguous(memory_format=torch.channels_last))


# (id, convolution, input shape, what oneDNN does with it)
SINGLE = [
    ("direct", lambda: nn.Conv2d(64, 64, 3, padding=1), (2, 64, 16, 16)),  # blocked copies of all
    ("padded-channels", lambda: nn.Conv2d(24, 40, 3, padding=1), (2, 24, 16, 16)),  # 24 -> 32, 40 -> 48
    ("first-layer", lambda: nn.Conv2d(3, 32, 3, stride=2, padding=1), (2, 3, 32, 32)),  # input read as it is
    ("depthwise", lambda: nn.Conv2d(64, 64, 3, padding=1, groups=64), (2, 64, 16, 16)),
    ("depthwise-5x5", lambda: nn.Conv2d(96, 96, 5, padding=2, groups=96), (2, 96, 16, 16)),  # GEMM weight grad
    ("grouped-by-4", lambda: nn.Conv2d(128, 128, 3, padding=1, groups=32), (2, 128, 16, 16)),  # GEMM weight grad
    ("grouped-by-8", lambda: nn.Conv2d(64, 64, 3, padding=1, groups=8), (2, 64, 16, 16)),
    ("1x1-strided", lambda: nn.Conv2d(256, 512, 1, stride=2), (2, 256, 16, 16)),  # unit-stride input copies
    ("1x1-stride-3", lambda: nn.Conv2d(128, 256, 1, stride=3), (2, 128, 24, 24)),
    # a row left over (15 = 2 x 7 + 1): the direct kernel, no unit-stride copies (they were once counted: +5.9%)
    ("1x1-strided-odd", lambda: nn.Conv2d(256, 512, 1, stride=2), (2, 256, 15, 15)),
    ("1x1", lambda: nn.Conv2d(64, 256, 1, bias=False), (16, 64, 8, 8)),  # below 16 on one thread: Slow2d
    ("3x3-strided", lambda: nn.Conv2d(64, 128, 3, stride=2, padding=1), (2, 64, 16, 16)),
    ("3d", lambda: nn.Conv3d(32, 32, 3, padding=1), (2, 32, 4, 8, 8)),
    ("3d-shallow", lambda: nn.Conv3d(64, 64, 3, padding=1), (2, 64, 2, 8, 8)),  # GEMM weight grad, 4x buffer
    ("1d", lambda: nn.Conv1d(32, 64, 3, padding=1), (2, 32, 64)),
    # transposed (oneDNN's brgemm deconvolution, channels-last inside): output-sized buffers dominate
    ("transposed-2x2", lambda: nn.ConvTranspose2d(64, 32, 2, stride=2), (4, 64, 16, 16)),
    ("transposed-4x4", lambda: nn.ConvTranspose2d(256, 128, 4, stride=2, padding=1), (2, 256, 32, 32)),
    ("transposed-stride-1", lambda: nn.ConvTranspose2d(64, 32, 3, padding=1), (2, 64, 16, 16)),
    ("transposed-padded-channels", lambda: nn.ConvTranspose2d(40, 24, 2, stride=2), (2, 40, 16, 16)),
    ("transposed-3d", lambda: nn.ConvTranspose3d(64, 32, 2, stride=2), (2, 64, 4, 8, 8)),
]
ON_ONEDNN = {int(B.Mkldnn), int(B.Mkldnn) + 1}  # the second: MkldnnTranspose, unnamed in torch's Python enum


@pytest.mark.parametrize("train", [False, True], ids=["inference", "training"])
@pytest.mark.parametrize("case", SINGLE, ids=[c[0] for c in SINGLE])
def test_one_convolution_on_onednn_matches_the_cpu_allocator(case, train):
    _, make, shape = case
    torch.manual_seed(0)
    conv = make()
    assert int(_backend_of(conv, shape)) in ON_ONEDNN
    report = agrees(nn.Sequential(conv), shape, train)
    assert report.workspace_bytes > 0  # the peak is inside the convolution: the case tests the model


CHANNELS_LAST = [
    ("3x3", lambda: nn.Conv2d(64, 64, 3, padding=1), (4, 64, 56, 56)),
    # a 7x7 depthwise weight gradient goes to the grouped kernel, a 16 x 16 block per channel: 256 x its weight
    ("depthwise-7x7", lambda: nn.Conv2d(384, 384, 7, padding=3, groups=384), (2, 384, 14, 14)),
    ("downsample-2x2", lambda: nn.Conv2d(192, 384, 2, stride=2), (2, 192, 28, 28)),
]


@pytest.mark.parametrize("train", [False, True], ids=["inference", "training"])
@pytest.mark.parametrize("case", CHANNELS_LAST, ids=[c[0] for c in CHANNELS_LAST])
def test_a_channels_last_convolution_matches_the_cpu_allocator(case, train):
    _, make, shape = case
    torch.manual_seed(0)
    agrees(ChannelsLast(make()), shape, train)


def test_the_gemm_kernel_s_im2col_buffer_is_the_one_thing_left_out():
    # A padding wider than the direct kernel's row unroll sends the convolution to oneDNN's GEMM kernel. Its
    # output copy is modelled; its im2col buffer is not (oneDNN sizes it by thread count and cache: whole, one
    # per thread, on two threads here; a fraction of that on one). So the prediction is short, by no more than
    # a whole buffer per thread.
    from memory_oracle import measured_peak

    from cnnprofile.analyses.memory import memory

    torch.manual_seed(0)
    conv = nn.Conv2d(256, 256, 3, padding=12, dilation=12)
    shape = (2, 256, 8, 8)
    assert _backend_of(conv, shape) == B.Mkldnn
    measured = measured_peak(nn.Sequential(conv), torch.randn(shape))
    predicted = memory(nn.Sequential(conv), shape, device="cpu").peak_bytes
    whole = torch.get_num_threads() * 256 * 9 * 8 * 8 * 4 + 128
    assert 0 < measured - predicted <= whole


def test_the_transposed_kernel_s_own_buffers_are_left_out():
    # The brgemm deconvolution's scratchpad is modelled as one input row per thread and channel; its other
    # per-thread buffers (8 kB for a 2x2 kernel, 90-160 kB for a 4x4 one of 256 channels) are not. They
    # show where the weight is large against the maps: short by no more than 200 kB per thread.
    from memory_oracle import measured_peak

    from cnnprofile.analyses.memory import memory

    torch.manual_seed(0)
    conv = nn.Sequential(nn.ConvTranspose2d(256, 128, 4, stride=2, padding=1))
    shape = (2, 256, 16, 16)
    measured = measured_peak(conv, torch.randn(shape))
    predicted = memory(conv, shape, device="cpu").peak_bytes
    assert 0 < measured - predicted <= torch.get_num_threads() * 200_000


def _video(batch):
    return lambda: torchvision.models.video.r3d_18(), (batch, 3, 4, 56, 56)


def _segmentation(name):
    build = getattr(torchvision.models.segmentation, name)
    return lambda: Out(build(weights=None, weights_backbone=None, aux_loss=False))


# (id, model, input shape, training): all on oneDNN at these batches, with PyTorch's defaults
NETWORKS = [
    ("fcn_resnet50-inference", _segmentation("fcn_resnet50"), (1, 3, 64, 64), False),  # was -21.7%
    ("deeplabv3_resnet50-inference", _segmentation("deeplabv3_resnet50"), (1, 3, 64, 64), False),  # -5.2%
    ("r3d_18-inference", *_video(2), False),  # was -12.7%
    ("r3d_18-training", *_video(2), True),  # was -39.0%
    ("resnet18-inference", lambda: torchvision.models.resnet18(), (1, 3, 224, 224), False),  # was -6.3%
    ("mobilenet_v2-training", lambda: torchvision.models.mobilenet_v2(), (2, 3, 96, 96), True),
    ("resnext50-training", lambda: torchvision.models.resnext50_32x4d(), (2, 3, 64, 64), True),
    ("efficientnet_b0-training", lambda: torchvision.models.efficientnet_b0(), (2, 3, 96, 96), True),
    ("densenet121-inference", lambda: torchvision.models.densenet121(), (2, 3, 64, 64), False),
    ("unet-transposed-inference", TinyUNet, (4, 3, 64, 64), False),  # was -13.3%
    ("unet-transposed-training", TinyUNet, (4, 3, 64, 64), True),  # was -13.4%
    # channels-last after its first downsampling (permuted layer norms): was -7.2% at 224x224
    ("convnext_tiny-training", lambda: torchvision.models.convnext_tiny(), (2, 3, 64, 64), True),
]


@pytest.mark.slow
@pytest.mark.parametrize("case", NETWORKS, ids=[c[0] for c in NETWORKS])
def test_networks_on_onednn_match_the_cpu_allocator(case):
    _, make, shape, train = case
    torch.manual_seed(0)
    agrees(make(), shape, train)


AVX2_CHECK = """
import sys, torch, torchvision
from torch import nn
sys.path.insert(0, {tests!r})
from memory_oracle import agrees
from cnnprofile.analyses.memory import cpu_onednn
assert cpu_onednn.vector_width() == 8
for make, shape, train in [(torchvision.models.resnet18, (1, 3, 112, 112), False),
                           (torchvision.models.mobilenet_v2, (2, 3, 64, 64), True),
                           (torchvision.models.video.r3d_18, (2, 3, 2, 32, 32), True),
                           # the weight gradient's unit-stride copies: 8 of its 32 blocks of 8 channels
                           (lambda: nn.Sequential(nn.Conv2d(256, 512, 1, stride=2)), (2, 256, 16, 16), True)]:
    torch.manual_seed(0)
    agrees(make(), shape, train)
print("ok")
"""


@pytest.mark.slow
@pytest.mark.skipif(torch.backends.cpu.get_cpu_capability() != "AVX512", reason="AVX2 runs by default there")
def test_the_avx2_kernels_block_by_8_when_onednn_is_held_to_avx2():
    # oneDNN honours ONEDNN_MAX_CPU_ISA when it first runs, so an AVX-512 machine can check the AVX2 branch in a
    # fresh process: blocks of 8 channels, its narrower row unroll, its own first-layer rule.
    env = dict(os.environ, ONEDNN_MAX_CPU_ISA="AVX2")
    done = subprocess.run([sys.executable, "-c", AVX2_CHECK.format(tests=os.path.dirname(__file__))], env=env,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0 and done.stdout.strip().endswith("ok"), done.stderr[-2000:]
