"""AlexNet (Krizhevsky, Sutskever & Hinton, NIPS 2012) and ZFNet (Zeiler & Fergus, ECCV 2014).

AlexNet, paper-faithful (section 3.5 and Figure 2): 3x227x227 input (the paper's "224x224" does not give its
55x55 first layer with an 11x11/4 kernel and no padding; 227 does); the two-GPU split is kept as ``groups=2``
on conv2, conv4 and conv5, while conv3 sees all kernel maps of layer 2 and the fully connected layers are dense
across the towers, so the model has the paper's exact size, 60,965,224 parameters. Local response
normalisation (size 5, alpha 1e-4, beta 0.75, k 2; section 3.3) follows the ReLU of layers 1 and 2 only,
before their overlapping 3x3/2 max pooling. torchvision's ``alexnet`` is a different, single-tower variant
(64/192/384/256/256 filters, no LRN, 61.1M parameters), so only the module naming is shared with it.

ZFNet is the lecture's: "AlexNet but conv1 7x7 stride 2, conv3/4/5 with 512/1024/512 filters". The layer
sequence is Zeiler & Fergus's Figure 3 (conv -> ReLU -> 3x3/2 max pool -> contrast normalisation, for layers
1 and 2), with the widths of the larger variant in their Tables 2 and 3 (layers 3, 4, 5 with 512, 1024,
512 maps), dense convolutions (trained on a single GPU) and 224x224 input. Figure 3 gives no paddings; conv1
padding 1 and ceil-mode pooling (Caffe's convention) give exactly its sizes 110, 55, 26, 13, 13, 13, 6.
The lecture's "conv2 stride 2 instead of 4" is a slip (AlexNet's conv2 has stride 1; it is conv1 whose
stride goes from 4 to 2); Figure 3's conv2 is 5x5 with stride 2, which is what is built.

The lecture also claims ZFNet has "1.45M fewer parameters than AlexNet". It does not hold for this model:
with 512/1024/512 filters ZFNet has 107,627,624 parameters, 46.7M more than AlexNet, mainly because FC6 now
reads 6x6x512 values and conv4/conv5 are 4.7M each. Even the 384/384/256 model of Figure 3 has 62,357,608
parameters, 1.39M *more* than AlexNet, because its convolutions are not split into two towers.
"""
from __future__ import annotations

from typing import Sequence

import torch
from torch import nn

from .registry import Published, register_model

ALEXNET_PAPER = ("A. Krizhevsky, I. Sutskever and G. E. Hinton, \"ImageNet classification with deep "
                 "convolutional neural networks\", NIPS 2012")
ZFNET_PAPER = ("M. D. Zeiler and R. Fergus, \"Visualizing and understanding convolutional networks\", "
               "ECCV 2014")


def _lrn() -> nn.LocalResponseNorm:
    return nn.LocalResponseNorm(size=5, alpha=1e-4, beta=0.75, k=2.0)


def _classifier(in_features: int, num_classes: int, dropout: float = 0.5) -> nn.Sequential:
    return nn.Sequential(
        nn.Dropout(dropout), nn.Linear(in_features, 4096), nn.ReLU(inplace=True),
        nn.Dropout(dropout), nn.Linear(4096, 4096), nn.ReLU(inplace=True),
        nn.Linear(4096, num_classes),
    )


class AlexNet(nn.Module):
    def __init__(self, num_classes: int = 1000, dropout: float = 0.5):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 96, kernel_size=11, stride=4), nn.ReLU(inplace=True), _lrn(),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(96, 256, kernel_size=5, padding=2, groups=2), nn.ReLU(inplace=True), _lrn(),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(256, 384, kernel_size=3, padding=1), nn.ReLU(inplace=True),
            nn.Conv2d(384, 384, kernel_size=3, padding=1, groups=2), nn.ReLU(inplace=True),
            nn.Conv2d(384, 256, kernel_size=3, padding=1, groups=2), nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),
        )
        self.classifier = _classifier(256 * 6 * 6, num_classes, dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(torch.flatten(self.features(x), 1))


class ZFNet(nn.Module):
    """``widths`` are conv3/4/5's filter counts: (512, 1024, 512) for the lecture's model, (384, 384, 256) for
    the paper's Figure 3."""

    def __init__(self, num_classes: int = 1000, widths: Sequence[int] = (512, 1024, 512), dropout: float = 0.5):
        super().__init__()
        c3, c4, c5 = widths
        self.features = nn.Sequential(
            nn.Conv2d(3, 96, kernel_size=7, stride=2, padding=1), nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2, ceil_mode=True), _lrn(),
            nn.Conv2d(96, 256, kernel_size=5, stride=2), nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2, ceil_mode=True), _lrn(),
            nn.Conv2d(256, c3, kernel_size=3, padding=1), nn.ReLU(inplace=True),
            nn.Conv2d(c3, c4, kernel_size=3, padding=1), nn.ReLU(inplace=True),
            nn.Conv2d(c4, c5, kernel_size=3, padding=1), nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2, ceil_mode=True),
        )
        self.classifier = _classifier(c5 * 6 * 6, num_classes, dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(torch.flatten(self.features(x), 1))


@register_model(family="alexnet", paper=ALEXNET_PAPER, input_size=(3, 227, 227),
                published=Published(params=60_965_224, params_rel_tol=0.0,
                                     source="layer sizes of the paper's section 3.5 / Figure 2 summed exactly "
                                            "(the abstract rounds to \"60 million parameters\"); no MAC figure "
                                            "is published"))
def alexnet(num_classes: int = 1000) -> nn.Module:
    """AlexNet as in the paper: two-tower grouped conv2/4/5, LRN after layers 1 and 2, 227x227 input"""
    return AlexNet(num_classes=num_classes)


@register_model(family="alexnet", paper=ZFNET_PAPER, input_size=(3, 224, 224),
                description="ZFNet as the lecture describes it (Zeiler & Fergus's Fig. 3 model with conv3/4/5 "
                            "widened to 512/1024/512 filters as in their Tables 2-3, dense convolutions): "
                            "107.6M parameters, so the lecture's \"1.45M fewer parameters than AlexNet\" does "
                            "not hold (it has 46.7M more)")
def zfnet(num_classes: int = 1000) -> nn.Module:
    return ZFNet(num_classes=num_classes)
