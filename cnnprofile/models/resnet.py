"""ResNet (He, Zhang, Ren, Sun, "Deep residual learning for image recognition", CVPR 2016, arXiv 1512.03385).

Paper-faithful (Table 1 and section 3): 7x7/2 convolution with 64 filters, 3x3/2 max pooling, four stages of
basic blocks (two 3x3 convolutions; ResNet-18/34) or bottleneck blocks (1x1, 3x3, 1x1 with 4x expansion;
ResNet-50/101/152), batch normalisation right after every convolution and before the ReLU, the second ReLU
after the addition, identity shortcuts where shapes agree and projection shortcuts (option B: 1x1 convolution
with the stage's stride, then batch norm) where they change, global average pooling and a 1000-way FC.
Convolutions have no bias because batch norm follows each of them.

The registered models are the paper's ("v1"): a bottleneck that halves the resolution does so in its first
1x1 convolution, as in the authors' Caffe models. torchvision moved that stride to the 3x3 convolution
("v1.5"): the same parameters, but the 3x3 then runs on the smaller map only after seeing the full-resolution
input, which costs more MACs (ResNet-50: 4.09G instead of 3.86G). ``build_resnet(depth, stride_in_3x3=True)``
builds that variant for comparison; it is not a zoo model of its own. For ResNet-18/34 the two are the same.

Module names follow torchvision (``conv1``, ``layer1.0.conv1``, ``layer2.0.downsample.0``, ``fc``), so the
state dicts line up key for key.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from functools import partial
from typing import Callable, Optional, Sequence

import torch
from torch import nn

from .registry import Published, register_model

PAPER = ("K. He, X. Zhang, S. Ren and J. Sun, \"Deep residual learning for image recognition\", CVPR 2016 "
         "(arXiv 1512.03385)")

# A block factory is called as factory(in_channels, planes, stride) and returns a module with ``out_channels``.
BlockFactory = Callable[[int, int, int], nn.Module]


def conv_bn(in_channels: int, out_channels: int, kernel_size: int, stride: int = 1) -> tuple:
    return (nn.Conv2d(in_channels, out_channels, kernel_size, stride=stride, padding=kernel_size // 2, bias=False),
            nn.BatchNorm2d(out_channels))


def projection(in_channels: int, out_channels: int, stride: int) -> Optional[nn.Sequential]:
    """Option B of section 3.3: project only where the shortcut's shape changes, otherwise identity."""
    if stride == 1 and in_channels == out_channels:
        return None
    return nn.Sequential(*conv_bn(in_channels, out_channels, 1, stride))


class ResidualBlock(nn.Module, ABC):
    """relu(F(x) + shortcut(x)), equation (2) followed by the second nonlinearity; subclasses define F."""

    @abstractmethod
    def residual(self, x: torch.Tensor) -> torch.Tensor: ...

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.residual(x)
        out = out + identity
        return self.relu(out)


class BasicBlock(ResidualBlock):
    """Figure 5, left: two 3x3 convolutions."""

    expansion = 1

    def __init__(self, in_channels: int, planes: int, stride: int = 1):
        super().__init__()
        self.out_channels = planes * self.expansion
        self.conv1, self.bn1 = conv_bn(in_channels, planes, 3, stride)
        self.conv2, self.bn2 = conv_bn(planes, self.out_channels, 3)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = projection(in_channels, self.out_channels, stride)

    def residual(self, x: torch.Tensor) -> torch.Tensor:
        return self.bn2(self.conv2(self.relu(self.bn1(self.conv1(x)))))


class Bottleneck(ResidualBlock):
    """Figure 5, right: 1x1 reduce, 3x3, 1x1 expand (x4).

    ``stride_in_3x3=False`` is the paper's block (stride in the first 1x1); True is torchvision's v1.5.
    """

    expansion = 4

    def __init__(self, in_channels: int, planes: int, stride: int = 1, stride_in_3x3: bool = False):
        super().__init__()
        self.out_channels = planes * self.expansion
        stride1, stride2 = (1, stride) if stride_in_3x3 else (stride, 1)
        self.conv1, self.bn1 = conv_bn(in_channels, planes, 1, stride1)
        self.conv2, self.bn2 = conv_bn(planes, planes, 3, stride2)
        self.conv3, self.bn3 = conv_bn(planes, self.out_channels, 1)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = projection(in_channels, self.out_channels, stride)

    def residual(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        return self.bn3(self.conv3(out))


class ResNet(nn.Module):
    """Table 1's network for any block factory (the SE-ResNets of senet.py pass theirs)."""

    def __init__(self, block: BlockFactory, layers: Sequence[int], num_classes: int = 1000):
        super().__init__()
        self.conv1, self.bn1 = conv_bn(3, 64, 7, stride=2)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        channels = 64
        for i, (planes, count) in enumerate(zip((64, 128, 256, 512), layers)):
            blocks = []
            for j in range(count):
                # conv2_x keeps the max pool's 56x56; conv3_x..conv5_x halve the map in their first block.
                blocks.append(block(channels, planes, 2 if i > 0 and j == 0 else 1))
                channels = blocks[-1].out_channels
            setattr(self, f"layer{i + 1}", nn.Sequential(*blocks))
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(channels, num_classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                # Section 3.4 initialises as in He et al. 2015 ("Delving deep into rectifiers").
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        x = torch.flatten(self.avgpool(x), 1)
        return self.fc(x)


# Table 1: blocks per stage (conv2_x .. conv5_x).
LAYERS = {18: (2, 2, 2, 2), 34: (3, 4, 6, 3), 50: (3, 4, 6, 3), 101: (3, 4, 23, 3), 152: (3, 8, 36, 3)}


def build_resnet(depth: int, num_classes: int = 1000, stride_in_3x3: bool = False) -> ResNet:
    """The paper's ResNet-``depth``; ``stride_in_3x3=True`` gives torchvision's v1.5 bottleneck."""
    if depth not in LAYERS:
        raise ValueError(f"ResNet depth must be one of {sorted(LAYERS)}, got {depth}")
    block = BasicBlock if depth < 50 else partial(Bottleneck, stride_in_3x3=stride_in_3x3)
    return ResNet(block, LAYERS[depth], num_classes)


def _register(depth: int, params: int, macs: float, source: str):
    def builder(num_classes: int = 1000, stride_in_3x3: bool = False) -> nn.Module:
        return build_resnet(depth, num_classes, stride_in_3x3)

    builder.__name__ = f"resnet{depth}"
    builder.__doc__ = f"ResNet-{depth}, the paper's version (Table 1)"
    register_model(family="resnet", paper=PAPER, input_size=(3, 224, 224),
                   published=Published(params=params, macs=macs, source=source))(builder)
    return builder


# Parameters: torchvision's weights metadata (``num_params``, exact; the stride position does not change it).
# MACs: the paper's Table 1 gives two digits (1.8, 3.6, 3.8, 7.6, 11.3 GFLOPs, which are multiply-adds; 3.6 for
# ResNet-34 is truncated, the network computes 3.66G). For ResNet-18/34, v1 and v1.5 are one network, so
# torchvision's ``_ops`` describes them more precisely; for 50/101/152 torchvision's ``_ops`` are v1.5's, and
# Hu et al. (SENet, CVPR 2018, Table 2) give the v1 networks to three digits.
_TV = "torchvision weights metadata (num_params; _ops in GMACs, the same network as the paper's)"
_SE = ("params: torchvision num_params (v1.5 has the same); MACs: Hu et al. 2018 (SENet) Table 2, ResNet-{}: "
       "{} GFLOPs (multiply-adds)")
resnet18 = _register(18, 11_689_512, 1.814e9, _TV)
resnet34 = _register(34, 21_797_672, 3.664e9, _TV)
resnet50 = _register(50, 25_557_032, 3.86e9, _SE.format(50, 3.86))
resnet101 = _register(101, 44_549_160, 7.58e9, _SE.format(101, 7.58))
resnet152 = _register(152, 60_192_808, 11.30e9, _SE.format(152, 11.30))
