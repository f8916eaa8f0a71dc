"""Darknet's classifiers (Redmon): Darknet-19 (YOLO9000, CVPR 2017) and the Extraction network (YOLOv1's backbone).

Built layer by layer from darknet's configuration files (github.com/pjreddie/darknet, ``cfg/darknet19.cfg`` and
``cfg/extraction.cfg`` at commit f6afaab): a ``[convolutional]`` section is a convolution with ``pad=1``, which
darknet reads as padding ``size // 2``; ``batch_normalize=1`` means no convolution bias, a batch normalisation
and then the activation, ``leaky`` being a leaky ReLU of slope 0.1; ``[maxpool]`` is 2x2/2 (on even sizes
darknet's default padding of ``size - 1`` changes nothing); ``[avgpool]`` is a global average; ``[softmax]``
closes the classifier, so these models return probabilities, as darknet does.

Operation counts. Darknet counts 2 operations per multiply-add of its convolutional and connected layers and
nothing else (``numops`` in examples/darknet.c, and the ``BFLOPs`` it prints per convolution in
src/convolutional_layer.c): ``darknet ops cfg/darknet19.cfg`` at 224x224 prints 5,581,979,648, that is
2,790,989,824 MACs, the YOLO9000 paper's "5.58 billion operations" (section 3). The paper's "8.52 billion" for
"a custom network based on the Googlenet architecture" is the Extraction network at 224x224 (darknet prints
8,518,680,576). Its "30.69 billion floating point operations" for VGG-16 are the convolutions only: VGG-16's
15.47G MACs are 30.94G operations, of which its three dense layers take 0.247G (darknet's ``cfg/vgg-16.cfg``
prints 30.94 Bn). Batch normalisation, leaky ReLU, pooling and softmax are FLOPs here, never MACs, so our MACs
are darknet's count halved exactly.
"""
from __future__ import annotations

from typing import Sequence, Union

import torch
from torch import nn

from .registry import Published, register_model

DARKNET19_PAPER = "J. Redmon and A. Farhadi, \"YOLO9000: better, faster, stronger\", CVPR 2017 (arXiv 1612.08242)"
YOLOV1_PAPER = ("J. Redmon, S. Divvala, R. Girshick and A. Farhadi, \"You only look once: unified, real-time "
                "object detection\", CVPR 2016 (arXiv 1506.02640)")
LEAKY_SLOPE = 0.1  # darknet's "leaky" activation (src/activations.h: x > 0 ? x : .1 * x)

# (filters, kernel, stride) is a [convolutional] section, "M" a 2x2/2 [maxpool].
Layer = Union[tuple, str]
DARKNET19: Sequence[Layer] = (
    (32, 3, 1), "M", (64, 3, 1), "M", (128, 3, 1), (64, 1, 1), (128, 3, 1), "M",
    (256, 3, 1), (128, 1, 1), (256, 3, 1), "M",
    (512, 3, 1), (256, 1, 1), (512, 3, 1), (256, 1, 1), (512, 3, 1), "M",
    (1024, 3, 1), (512, 1, 1), (1024, 3, 1), (512, 1, 1), (1024, 3, 1),
)
# The first 20 convolutions of YOLOv1 (its Figure 3), which the Extraction classifier shares.
EXTRACTION: Sequence[Layer] = (
    (64, 7, 2), "M", (192, 3, 1), "M", (128, 1, 1), (256, 3, 1), (256, 1, 1), (512, 3, 1), "M",
    (256, 1, 1), (512, 3, 1), (256, 1, 1), (512, 3, 1), (256, 1, 1), (512, 3, 1), (256, 1, 1), (512, 3, 1),
    (512, 1, 1), (1024, 3, 1), "M",
    (512, 1, 1), (1024, 3, 1), (512, 1, 1), (1024, 3, 1),
)


def conv_layers(filters: int, kernel: int, stride: int, in_channels: int, batch_norm: bool) -> list:
    """One darknet [convolutional] section with ``pad=1`` and ``activation=leaky``."""
    layers = [nn.Conv2d(in_channels, filters, kernel, stride=stride, padding=kernel // 2, bias=not batch_norm)]
    if batch_norm:
        layers.append(nn.BatchNorm2d(filters))
    return layers + [nn.LeakyReLU(LEAKY_SLOPE, inplace=True)]


def darknet_features(config: Sequence[Layer], in_channels: int = 3, batch_norm: bool = True) -> tuple:
    """(nn.Sequential of the sections in ``config``, channels of its output)."""
    layers: list = []
    channels = in_channels
    for item in config:
        if item == "M":
            layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
        else:
            filters, kernel, stride = item
            layers += conv_layers(filters, kernel, stride, channels, batch_norm)
            channels = filters
    return nn.Sequential(*layers), channels


class DarknetClassifier(nn.Module):
    """Darknet's classifier head: a 1x1 convolution to the classes (with bias, no normalisation), a global
    average pooling and a softmax. The 1x1 convolution's activation is the cfg's: linear for Darknet-19,
    leaky for Extraction (``leaky_head``)."""

    def __init__(self, config: Sequence[Layer], num_classes: int = 1000, leaky_head: bool = False):
        super().__init__()
        self.features, channels = darknet_features(config)
        head = [nn.Conv2d(channels, num_classes, 1)]
        if leaky_head:
            head.append(nn.LeakyReLU(LEAKY_SLOPE, inplace=True))
        self.classifier = nn.Sequential(*head, nn.AdaptiveAvgPool2d(1), nn.Flatten(1), nn.Softmax(dim=1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x))


@register_model(family="darknet", paper=DARKNET19_PAPER, input_size=(3, 224, 224),
                published=Published(operations=5.58e9, macs_rel_tol=0.001,
                                     source="YOLO9000 section 3: \"5.58 billion operations\" at 224x224, darknet's "
                                            "convention of 2 per multiply-add (rounded to 3 digits)"))
def darknet19(num_classes: int = 1000) -> nn.Module:
    """Darknet-19 (YOLO9000 Table 6, darknet's cfg/darknet19.cfg): 19 convolutions with batch norm and leaky ReLU,
    5 max poolings, global average pooling, softmax"""
    return DarknetClassifier(DARKNET19, num_classes)


@register_model(family="darknet", paper=YOLOV1_PAPER, input_size=(3, 224, 224),
                published=Published(operations=8.52e9, macs_rel_tol=0.001,
                                    source="YOLO9000 section 3: YOLOv1's \"custom network based on the Googlenet "
                                           "architecture\" uses \"8.52 billion operations\" at 224x224 (2 per "
                                           "multiply-add, rounded to 3 digits)"))
def extraction(num_classes: int = 1000) -> nn.Module:
    """Darknet's Extraction classifier (cfg/extraction.cfg): YOLOv1's first 20 convolutions, pretrained on
    ImageNet at 224x224, with batch norm, a 1x1 convolution to the classes, average pooling and softmax"""
    return DarknetClassifier(EXTRACTION, num_classes, leaky_head=True)
