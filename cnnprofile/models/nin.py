"""Network in Network (M. Lin, Q. Chen and S. Yan, "Network in network", ICLR 2014, arXiv 1312.4400).

The paper introduces the mlpconv layer (a convolution followed by a small multilayer perceptron, i.e. 1x1
convolutions, section 3.1) and global average pooling in place of fully connected layers (section 3.2), and
reports CIFAR-10/100, SVHN and MNIST networks. Its ImageNet network is the authors' reference Caffe model
("Network in Network Imagenet Model", nin_imagenet, Caffe Model Zoo, gist mavenlin/d802a5849de39225bcc6), a
"4 layer" NIN, i.e. four mlpconv layers, which is the model built here from its train_val.prototxt:

  input 3x224x224 (crop_size 224)
  mlpconv 1: conv 11x11/4 (96, no padding) -> 1x1 (96) -> 1x1 (96); max pool 3x3/2     54 -> 27
  mlpconv 2: conv 5x5 pad 2 (256)        -> 1x1 (256) -> 1x1 (256); max pool 3x3/2     27 -> 13
  mlpconv 3: conv 3x3 pad 1 (384)        -> 1x1 (384) -> 1x1 (384); max pool 3x3/2     13 -> 6; dropout 0.5
  mlpconv 4: conv 3x3 pad 1 (1024)       -> 1x1 (1024) -> 1x1 (1000)                   6x6x1000
  global average pooling (6x6) -> 1000 class scores (no fully connected layer)

ReLU follows every convolution (the last included), convolutions have biases, there is no normalisation.
Caffe rounds pooled sizes up, so the pools run in ceil mode (only the first one, 54 -> 27, depends on it). Layer
names follow the prototxt (conv1, cccp1, cccp2, ..., conv4-1024 as ``conv4``, cccp7-1024/cccp8-1024 as
``cccp7``/``cccp8``).

Sizes: 7,595,176 parameters (hand-summed in the tests from the prototxt widths) and 1.100G MACs at 224x224. The
model's page gives only its snapshot size, "29MB", which at 4 bytes per float32 weight is 7.60M parameters, the
figure recorded as published with the rounding of "29" MiB as tolerance. Its accuracy, 59.36% top-1 on the
validation set with a single centre crop, is in the accuracy dataset.
"""
from __future__ import annotations

import torch
from torch import nn

from .registry import Published, register_model

PAPER = ("M. Lin, Q. Chen and S. Yan, \"Network in network\", ICLR 2014 (arXiv 1312.4400); ImageNet model: the "
         "authors' Caffe Model Zoo nin_imagenet")


# Each mlpconv layer of the prototxt: (spatial kernel, stride, padding, widths, names of its three convolutions).
MLPCONV = (
    (11, 4, 0, (96, 96, 96), ("conv1", "cccp1", "cccp2")),
    (5, 1, 2, (256, 256, 256), ("conv2", "cccp3", "cccp4")),
    (3, 1, 1, (384, 384, 384), ("conv3", "cccp5", "cccp6")),
    (3, 1, 1, (1024, 1024, 1000), ("conv4", "cccp7", "cccp8")),
)


class NIN(nn.Module):
    def __init__(self, num_classes: int = 1000):
        super().__init__()
        self.features = nn.Sequential()
        channels = 3
        for i, (kernel, stride, padding, widths, names) in enumerate(MLPCONV, 1):
            if i == len(MLPCONV):
                widths = widths[:-1] + (num_classes,)  # the last 1x1 convolution gives one map per class
            # A spatial convolution, then the micro network of section 3.1 as 1x1 convolutions; ReLU after each.
            for j, (name, width) in enumerate(zip(names, widths)):
                k, s, p = (kernel, stride, padding) if j == 0 else (1, 1, 0)
                self.features.add_module(name, nn.Conv2d(channels, width, k, stride=s, padding=p))
                self.features.add_module(f"relu_{name}", nn.ReLU(inplace=True))
                channels = width
            if i < len(MLPCONV):
                self.features.add_module(f"pool{i}", nn.MaxPool2d(3, stride=2, ceil_mode=True))
            if i == 3:
                self.features.add_module("drop", nn.Dropout(0.5))
        self.avgpool = nn.AdaptiveAvgPool2d(1)  # pool4: 6x6 average at 224x224, global at any size

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.flatten(self.avgpool(self.features(x)), 1)


# "29MB" snapshot = 29 MiB of float32 weights; half a MiB of rounding either way.
_MIB_PARAMS = 2**20 // 4


@register_model(family="nin", paper=PAPER, input_size=(3, 224, 224),
                published=Published(params=29 * _MIB_PARAMS, params_rel_tol=0.5 / 29,
                                    source="Caffe Model Zoo nin_imagenet page: a \"29MB\" snapshot, i.e. 29 MiB of "
                                           "float32 weights = 7.60M parameters, +-0.5 MiB rounding"))
def nin(num_classes: int = 1000) -> nn.Module:
    """Network in Network, the authors' 4-mlpconv ImageNet model: no FC layer, global average pooling"""
    return NIN(num_classes)
