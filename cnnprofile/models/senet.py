"""SE-ResNet (Hu, Shen, Sun, "Squeeze-and-excitation networks", CVPR 2018 / TPAMI 2020).

Paper-faithful (section 3 and Figure 3): the paper's ResNet-50/101/152 (resnet.py, v1: the stride of a
downsampling bottleneck sits in its first 1x1 convolution, as in the authors' SE-ResNet reference models) with
an SE block on every bottleneck's residual branch, after its last batch norm and before the addition with the
shortcut: squeeze by global average pooling, excite by FC C -> C/16, ReLU, FC C/16 -> C, sigmoid, then scale the
branch channel-wise. The two FCs are ``nn.Linear`` with biases: equation (3) leaves the biases out "to simplify
the notation", but the published sizes include them (SE-ResNet-50: 28,088,024 parameters with biases, 28.09M;
28,071,976 without, 28.07M).

MACs here count the convolutions and the FCs only (the SE FCs add 2.5M to ResNet-50's 3.858G). The paper's
3.87 GFLOPs (+0.26%) also counts the squeeze pooling and the scaling multiplications, one per activation of
every block output, about 11M more; both agree with it well within 1%.
"""
from __future__ import annotations

from functools import partial

import torch
from torch import nn

from .registry import Published, register_model
from .resnet import LAYERS, Bottleneck, ResNet

PAPER = "J. Hu, L. Shen and G. Sun, \"Squeeze-and-excitation networks\", CVPR 2018"


class SqueezeExcitation(nn.Module):
    """Figure 1 / equations (2)-(4): channel weights in (0, 1) computed from the map's global average."""

    def __init__(self, channels: int, reduction: int = 16):
        super().__init__()
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc1 = nn.Linear(channels, channels // reduction)
        self.relu = nn.ReLU(inplace=True)
        self.fc2 = nn.Linear(channels // reduction, channels)
        self.sigmoid = nn.Sigmoid()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        s = torch.flatten(self.avgpool(x), 1)
        s = self.sigmoid(self.fc2(self.relu(self.fc1(s))))
        return x * s[:, :, None, None]


class SEBottleneck(Bottleneck):
    """Figure 3, right: the SE block rescales the residual branch F(x) before the identity is added."""

    def __init__(self, in_channels: int, planes: int, stride: int = 1, reduction: int = 16,
                 stride_in_3x3: bool = False):
        super().__init__(in_channels, planes, stride, stride_in_3x3)
        self.se = SqueezeExcitation(self.out_channels, reduction)

    def residual(self, x: torch.Tensor) -> torch.Tensor:
        return self.se(super().residual(x))


def build_se_resnet(depth: int, num_classes: int = 1000, reduction: int = 16) -> ResNet:
    if depth not in (50, 101, 152):
        raise ValueError(f"SE-ResNet depth must be 50, 101 or 152, got {depth}")
    return ResNet(partial(SEBottleneck, reduction=reduction), LAYERS[depth], num_classes)


def _register(depth: int, params: float, macs: float):
    def builder(num_classes: int = 1000, reduction: int = 16) -> nn.Module:
        return build_se_resnet(depth, num_classes, reduction)

    builder.__name__ = f"se_resnet{depth}"
    builder.__doc__ = f"SE-ResNet-{depth} (ResNet-{depth} v1 with SE blocks, reduction 16)"
    # The table gives millions to two decimals: half a unit of 0.01M, relative to the figure.
    register_model(family="senet", paper=PAPER, input_size=(3, 224, 224),
                   published=Published(params=round(params * 1e6), params_rel_tol=0.005 / params,
                                       macs=macs * 1e9,
                                       source=f"Hu et al. 2018 (SENet) Table 2: SE-ResNet-{depth}, "
                                              f"{params}M params, {macs} GFLOPs (multiply-adds)"))(builder)
    return builder


se_resnet50 = _register(50, 28.09, 3.87)
se_resnet101 = _register(101, 49.33, 7.60)
se_resnet152 = _register(152, 66.82, 11.32)
