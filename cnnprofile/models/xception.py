"""Xception (F. Chollet, "Xception: deep learning with depthwise separable convolutions", CVPR 2017).

Paper-faithful (Figure 5 and section 4.3): 3x299x299 input; entry flow with two unpadded 3x3 convolutions
(32/2, 64) and three downsampling modules (128, 256, 728), middle flow of eight identical modules of three 728
separable convolutions, exit flow with a downsampling module (728, 1024) and two separable convolutions (1536,
2048), global average pooling and a 1000-way FC (Figure 5's optional FC layers are left out, as in the
ImageNet model whose size Table 3 gives). A separable convolution is a 3x3 depthwise convolution followed by a
1x1 pointwise one with no nonlinearity in between (section 4.7 finds that best) and, like Keras' reference
implementation, no bias, since batch normalisation follows every (separable) convolution. ReLU placement is
Figure 5's: inside a module a ReLU precedes each separable convolution except the first entry module's first
one (its input was just ReLU'd by the stem); modules that halve the map end in 3x3/2 max pooling and add a
1x1/2 convolution + batch norm shortcut, the middle-flow modules add the identity. Keras pads the pools and
separable convolutions "same"; with these odd sizes that is 1 pixel each side, giving 149, 147, 74, 37, 19, 10.

Sizes: 22,855,952 parameters, Table 3's count and the Keras model's trainable count (batch-norm statistics are
buffers). The paper gives no MACs and no figure from a later table could be checked against its source, so
none is recorded; at 299x299 the network computes 8.357G MACs in its convolutions and FC.
"""
from __future__ import annotations

from typing import Sequence

import torch
from torch import nn

from .registry import Published, register_model

PAPER = "F. Chollet, \"Xception: deep learning with depthwise separable convolutions\", CVPR 2017"


class SeparableConv2d(nn.Module):
    """Depthwise 3x3 (one filter per channel), then pointwise 1x1; no bias."""

    def __init__(self, in_channels: int, out_channels: int):
        super().__init__()
        self.depthwise = nn.Conv2d(in_channels, in_channels, 3, padding=1, groups=in_channels, bias=False)
        self.pointwise = nn.Conv2d(in_channels, out_channels, 1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pointwise(self.depthwise(x))


class XceptionModule(nn.Module):
    """One boxed module of Figure 5: [ReLU] SepConv BN repeated, optionally a 3x3/2 max pool; plus shortcut."""

    def __init__(self, in_channels: int, widths: Sequence[int], downsample: bool, relu_first: bool = True):
        super().__init__()
        layers: list[nn.Module] = []
        channels = in_channels
        for i, width in enumerate(widths):
            if i > 0 or relu_first:
                # Not in place at the start: the shortcut still needs the module's input unchanged.
                layers.append(nn.ReLU(inplace=i > 0))
            layers += [SeparableConv2d(channels, width), nn.BatchNorm2d(width)]
            channels = width
        if downsample:
            layers.append(nn.MaxPool2d(3, stride=2, padding=1))
        self.branch = nn.Sequential(*layers)
        self.shortcut = (nn.Sequential(nn.Conv2d(in_channels, channels, 1, stride=2, bias=False),
                                       nn.BatchNorm2d(channels))
                         if downsample else None)
        self.out_channels = channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x if self.shortcut is None else self.shortcut(x)
        return self.branch(x) + identity


def conv_bn_relu(in_channels: int, out_channels: int, stride: int = 1) -> list:
    return [nn.Conv2d(in_channels, out_channels, 3, stride=stride, bias=False), nn.BatchNorm2d(out_channels),
            nn.ReLU(inplace=True)]


class Xception(nn.Module):
    def __init__(self, num_classes: int = 1000, middle_repeats: int = 8):
        super().__init__()
        self.entry_flow = nn.Sequential(
            *conv_bn_relu(3, 32, stride=2), *conv_bn_relu(32, 64),
            XceptionModule(64, (128, 128), downsample=True, relu_first=False),
            XceptionModule(128, (256, 256), downsample=True),
            XceptionModule(256, (728, 728), downsample=True),
        )
        self.middle_flow = nn.Sequential(*[XceptionModule(728, (728, 728, 728), downsample=False)
                                           for _ in range(middle_repeats)])
        self.exit_flow = nn.Sequential(
            XceptionModule(728, (728, 1024), downsample=True),
            SeparableConv2d(1024, 1536), nn.BatchNorm2d(1536), nn.ReLU(inplace=True),
            SeparableConv2d(1536, 2048), nn.BatchNorm2d(2048), nn.ReLU(inplace=True),
        )
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(2048, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.exit_flow(self.middle_flow(self.entry_flow(x)))
        return self.fc(torch.flatten(self.avgpool(x), 1))


@register_model(family="xception", paper=PAPER, input_size=(3, 299, 299),
                published=Published(params=22_855_952,
                                    source="paper Table 3: 22,855,952 parameters (also Keras' trainable count; "
                                           "BN statistics are buffers)"))
def xception(num_classes: int = 1000) -> nn.Module:
    """Xception, entry / middle (x8) / exit flow of depthwise separable convolutions"""
    return Xception(num_classes)
