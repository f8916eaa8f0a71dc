"""VGG (Simonyan & Zisserman, ICLR 2015), configurations A, A-LRN, B, C, D and E of the paper's Table 1.

Paper-faithful: 3x3 convolutions with stride 1 and padding 1 (1x1 with no padding in configuration C),
2x2/2 max pooling, FC-4096, FC-4096, FC-1000 with dropout 0.5, and no adaptive pooling before the classifier
(torchvision adds one), so the network only accepts inputs whose features reach 7x7 at the end.
Module names follow torchvision (``features.N``, ``classifier.N``) so the two can be compared layer by layer.
"""
from __future__ import annotations

from typing import Sequence, Union

import torch
from torch import nn

from .registry import Published, register_model

PAPER = ("K. Simonyan and A. Zisserman, \"Very deep convolutional networks for large-scale image recognition\", "
         "ICLR 2015")

# Table 1 of the paper. An int is a 3x3 convolution with that many filters; ("1x1", n) is configuration C's
# 1x1 convolution; "M" is max pooling; "LRN" is local response normalisation (A-LRN only).
Layer = Union[int, str, tuple]
CONFIGS: dict[str, Sequence[Layer]] = {
    "A": [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "A-LRN": [64, "LRN", "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "B": [64, 64, "M", 128, 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "C": [64, 64, "M", 128, 128, "M", 256, 256, ("1x1", 256), "M", 512, 512, ("1x1", 512), "M",
          512, 512, ("1x1", 512), "M"],
    "D": [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"],
    "E": [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M",
          512, 512, 512, 512, "M"],
}


def make_features(config: Sequence[Layer], in_channels: int = 3) -> nn.Sequential:
    layers: list[nn.Module] = []
    channels = in_channels
    for item in config:
        if item == "M":
            layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
        elif item == "LRN":
            # The paper reuses AlexNet's normalisation (Krizhevsky et al. 2012, section 3.3).
            layers.append(nn.LocalResponseNorm(size=5, alpha=1e-4, beta=0.75, k=2.0))
        else:
            kernel, out = (1, item[1]) if isinstance(item, tuple) else (3, item)
            layers += [nn.Conv2d(channels, out, kernel_size=kernel, padding=kernel // 2), nn.ReLU(inplace=True)]
            channels = out
    return nn.Sequential(*layers)


class VGG(nn.Module):
    def __init__(self, config: Sequence[Layer], num_classes: int = 1000, dropout: float = 0.5):
        super().__init__()
        self.features = make_features(config)
        self.classifier = nn.Sequential(
            nn.Linear(512 * 7 * 7, 4096), nn.ReLU(inplace=True), nn.Dropout(dropout),
            nn.Linear(4096, 4096), nn.ReLU(inplace=True), nn.Dropout(dropout),
            nn.Linear(4096, num_classes),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.features(x)
        x = torch.flatten(x, 1)
        return self.classifier(x)


def _register(name: str, config: str, params: int, macs: float, source: str, doc: str, params_rel_tol=0.0):
    def builder(num_classes: int = 1000) -> nn.Module:
        return VGG(CONFIGS[config], num_classes=num_classes)

    builder.__name__ = name
    builder.__doc__ = doc
    register_model(family="vgg", paper=PAPER, input_size=(3, 224, 224),
                   published=Published(params=params, params_rel_tol=params_rel_tol, macs=macs,
                                             source=source))(builder)


# A, B, D, E: torchvision's weights metadata (``num_params`` exact, ``_ops`` in GMACs), whose VGGs have the
# paper's layers. A-LRN and C have no such entry: the paper's Table 2 gives their size in millions.
_TV = "torchvision weights metadata (num_params, _ops)"
_register("vgg11", "A", 132_863_336, 7.609e9, _TV, "VGG configuration A (11 weight layers)")
_register("vgg11_lrn", "A-LRN", 133_000_000, None, "paper Table 2: 133M parameters (LRN has none)",
          "VGG configuration A-LRN (A with local response normalisation after the first layer)", 0.005)
_register("vgg13", "B", 133_047_848, 11.308e9, _TV, "VGG configuration B (13 weight layers)")
_register("vgg16_c", "C", 134_000_000, None, "paper Table 2: 134M parameters",
          "VGG configuration C (16 weight layers, three of them 1x1)", 0.005)
_register("vgg16", "D", 138_357_544, 15.47e9, _TV, "VGG configuration D, VGG-16")
_register("vgg19", "E", 143_667_240, 19.632e9, _TV, "VGG configuration E, VGG-19")
