"""The column buffers of PyTorch's own CPU convolution kernels (``cnnprofile/analyses/memory/cpu_conv.py``) against
the CPU allocator's accounting of the same real step (``tests/memory_oracle.py``).

Every case runs on one of PyTorch's slow paths (asserted, so that no case silently tests oneDNN instead). Without
the column buffers, the single-convolution predictions are up to 92% low (a 1x1 forward, whose columns are a view
of its input: 0%) and the networks' 2.6-40% low (the figures are in docs/memory.md); with them they must agree
within 0.5%.
"""
import pytest
import torch
import torchvision
from memory_oracle import agrees
from torch import nn

from cnnprofile.analyses.memory.cpu_conv import backend

B = torch._C._ConvBackend


def _backend_of(conv: nn.modules.conv._ConvNd, shape):
    return backend(shape, conv.weight.shape, conv.weight.dtype, conv.stride, conv.padding, conv.dilation,
                   isinstance(conv, nn.modules.conv._ConvTransposeNd), conv.output_padding, conv.groups)


# (id, convolution, input shape, the backend PyTorch picks for it on the CPU)
SINGLE = [
    ("slow2d-3x3", lambda: nn.Conv2d(64, 64, 3, padding=1), (1, 64, 16, 16), B.Slow2d),
    ("slow2d-strided", lambda: nn.Conv2d(32, 64, 3, stride=2, padding=1), (1, 32, 16, 16), B.Slow2d),
    ("slow2d-1x1", lambda: nn.Conv2d(64, 128, 1), (1, 64, 8, 8), B.Slow2d),  # columns are a view: none
    ("slow1d", lambda: nn.Conv1d(32, 32, 3, padding=1), (1, 32, 64), B.Slow2d),
    ("dilated2d", lambda: nn.Conv2d(256, 256, 3, padding=2, dilation=2), (1, 256, 8, 8), B.SlowDilated2d),
    ("dilated3d", lambda: nn.Conv3d(16, 16, 3, padding=2, dilation=2), (1, 16, 4, 16, 16), B.SlowDilated3d),
    ("slow3d-3x3x3", lambda: nn.Conv3d(64, 64, 3, padding=1), (1, 64, 4, 28, 28), B.Slow3d),
    ("slow3d-1x1x1-strided", lambda: nn.Conv3d(64, 128, 1, stride=2, bias=False), (1, 64, 4, 28, 28), B.Slow3d),
    ("transpose2d", lambda: nn.ConvTranspose2d(64, 32, 2, stride=2), (1, 64, 8, 8), B.SlowTranspose2d),
    ("transpose2d-3x3", lambda: nn.ConvTranspose2d(32, 16, 3, stride=2, padding=1, output_padding=1), (1, 32, 8, 8),
     B.SlowTranspose2d),
    ("transpose3d", lambda: nn.ConvTranspose3d(32, 16, 2, stride=2), (1, 32, 2, 8, 8), B.SlowTranspose3d),
]


@pytest.mark.parametrize("train", [False, True], ids=["inference", "training"])
@pytest.mark.parametrize("case", SINGLE, ids=[c[0] for c in SINGLE])
def test_one_convolution_on_a_slow_path_matches_the_cpu_allocator(case, train):
    _, make, shape, expected = case
    torch.manual_seed(0)
    conv = make()
    assert _backend_of(conv, shape) == expected
    report = agrees(nn.Sequential(conv), shape, train)
    if case[0] != "slow2d-1x1" or train:  # a 1x1 forward unfolds nothing; its backward copies the sum's gradient
        assert report.workspace_bytes > 0


def test_the_backend_asked_on_stand_ins_is_the_one_real_tensors_get():
    # The stand-ins own one element: the choice must not depend on anything but shapes, dtype and parameters.
    configs = [((1, 64, 16, 16), (64, 64, 3, 3), 1, 1, 1, False), ((2, 64, 16, 16), (64, 64, 3, 3), 1, 1, 1, False),
               ((1, 256, 16, 16), (64, 256, 1, 1), 1, 0, 1, False), ((1, 8, 16, 16), (8, 8, 3, 3), 1, 2, 2, False),
               ((1, 8, 16, 16), (8, 1, 3, 3), 1, 1, 1, False), ((1, 16, 4, 8, 8), (16, 16, 3, 3, 3), 1, 1, 1, False),
               ((1, 16, 8, 8), (16, 8, 2, 2), 2, 0, 1, True), ((1, 16, 8, 8), (16, 8, 5, 5), 2, 0, 1, True),
               ((1, 8, 32), (8, 8, 3), 1, 1, 1, False)]
    for x_shape, w_shape, s, p, d, transposed in configs:
        n = len(x_shape) - 2
        groups = x_shape[1] // w_shape[1] if not transposed else 1
        x, w = torch.zeros(x_shape), torch.zeros(w_shape)
        real = torch._C._select_conv_backend(x if n > 1 else x.unsqueeze(2), w if n > 1 else w.unsqueeze(2), None,
                                             [1] * (n == 1) + [s] * n, [0] * (n == 1) + [p] * n,
                                             [1] * (n == 1) + [d] * n, transposed, [0] * max(n, 2), groups, None)
        assert backend(x_shape, w_shape, torch.float32, [s] * n, [p] * n, [d] * n, transposed, [0] * n,
                       groups) == real, (x_shape, w_shape)


class TinyUNet(nn.Module):
    """Two poolings down, two 2x2 stride-2 transposed convolutions up, skip connections by concatenation."""

    def __init__(self, c=16):
        super().__init__()

        def block(i, o):
            return nn.Sequential(nn.Conv2d(i, o, 3, padding=1), nn.ReLU(inplace=True),
                                 nn.Conv2d(o, o, 3, padding=1), nn.ReLU(inplace=True))

        self.down1, self.down2, self.bottom = block(3, c), block(c, 2 * c), block(2 * c, 4 * c)
        self.pool = nn.MaxPool2d(2)
        self.up2, self.dec2 = nn.ConvTranspose2d(4 * c, 2 * c, 2, stride=2), block(4 * c, 2 * c)
        self.up1, self.dec1 = nn.ConvTranspose2d(2 * c, c, 2, stride=2), block(2 * c, c)
        self.head = nn.Conv2d(c, 2, 1)

    def forward(self, x):
        a = self.down1(x)
        b = self.down2(self.pool(a))
        y = self.dec2(torch.cat([self.up2(self.bottom(self.pool(b))), b], 1))
        return self.head(self.dec1(torch.cat([self.up1(y), a], 1)))


class Out(nn.Module):
    """torchvision's segmentation models return {"out": ...}: the step's loss reads the tensor."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, x):
        return self.model(x)["out"]


NETWORKS = [
    ("r3d_18-inference", lambda: torchvision.models.video.r3d_18(), (1, 3, 4, 56, 56), False),
    ("r3d_18-training", lambda: torchvision.models.video.r3d_18(), (1, 3, 4, 56, 56), True),
    ("mc3_18-inference", lambda: torchvision.models.video.mc3_18(), (1, 3, 4, 56, 56), False),
    ("unet-transposed-inference", TinyUNet, (1, 3, 32, 32), False),
    ("unet-transposed-training", TinyUNet, (1, 3, 32, 32), True),
]


@pytest.mark.slow
@pytest.mark.parametrize("case", NETWORKS, ids=[c[0] for c in NETWORKS])
def test_networks_on_slow_paths_match_the_cpu_allocator(case):
    _, make, shape, train = case
    torch.manual_seed(0)
    agrees(make(), shape, train)


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore:TF32 acceleration on top of oneDNN")  # torch's flags() sets TF32 as well
@pytest.mark.parametrize("name", ["fcn_resnet50", "deeplabv3_resnet50"])
def test_dilated_segmentation_network_with_onednn_off_matches_the_cpu_allocator(name):
    # Their ResNet-50 has dilated layer3 and layer4 (DeepLab's ASPP adds dilations 12, 24, 36); with oneDNN off
    # every convolution runs on PyTorch's own kernels (Slow2d, SlowDilated2d), so nothing is left unmodelled.
    torch.manual_seed(0)
    build = getattr(torchvision.models.segmentation, name)
    model = Out(build(weights=None, weights_backbone=None, aux_loss=False))
    with torch.backends.mkldnn.flags(enabled=False):
        dilated = model.model.backbone.layer4[1].conv2
        assert _backend_of(dilated, (1, 512, 8, 8)) == B.SlowDilated2d
        agrees(model, (1, 3, 64, 64), train=False)
