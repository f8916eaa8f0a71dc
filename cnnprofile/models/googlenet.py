"""GoogLeNet (Szegedy et al., "Going deeper with convolutions", CVPR 2015), Table 1 and section 5.

Paper-faithful: 3x224x224 input; the stem conv 7x7/2 (64) -> max pool 3x3/2 -> LRN -> conv 1x1 (64) ->
conv 3x3 (192) -> LRN -> max pool 3x3/2 (the LRN placement is the paper's Figure 3; the paper gives no LRN
hyper-parameters, so AlexNet's are used); nine inception modules with Table 1's widths and a true 5x5
convolution in the 5x5 branch; ReLU after every convolution, no batch normalisation; max pooling in
ceil mode so the sizes are Table 1's 112, 56, 28, 14, 7; avg pool 7x7/1, dropout 0.4, linear 1000.
The two auxiliary classifiers (section 5: avg pool 5x5/3, conv 1x1 128 + ReLU, FC 1024 + ReLU, dropout 0.7,
FC 1000) sit after 4a and 4d and run only in training mode, when the forward pass returns
``(logits, aux1, aux2)``; in eval mode they are never called, so an inference profile leaves them out.

torchvision's ``googlenet`` differs: batch normalisation after every convolution, no LRN, and a 3x3
convolution in the "5x5" branch (a known bug kept for its pretrained weights), so its numbers are not the
paper's.

Against Table 1: the inference network has 6,998,552 parameters and 1,582.7M MACs, while the table's rows sum
to 6,797.7K ("about 6.8M") and 1,502M ("about 1.5G"); both gaps come from the table, row by row:
- MACs: in every row but one, the table's ops equal this model's weights x output positions to within 0.6M
  (5a: 51.1M for the table's 54M). The exception is the 7x7/2 conv: the table gives 2.7K parameters and 34M
  ops (34M = 2.7K x 112x112, so the two columns agree with each other), but 7x7x3x64 = 9,408 weights at
  112x112 outputs is 118.0M MACs. Correcting that row alone turns 1,502M into 1,586M.
- Parameters: the table's parameter column is loose where its ops column is not. Weights minus that column:
  7x7 +6.7K, 3x3 +2.7K, 3a +4.3K, 3b +8.1K, 4a +11.6K, 4b +11.5K, 4c +46.4K, 4d +24.7K, 4e +27.3K,
  5a -29.6K, 5b +54.8K, fc +24.0K (+192.6K in all; e.g. 4c has 509,440 weights x 14x14 = 99.9M, the table's
  100M ops, but is listed as 463K parameters), and the table leaves out the 8,280 biases.
The published tolerances are therefore the table's rounding plus exactly these documented errors.
"""
from __future__ import annotations

from typing import Optional

import torch
from torch import nn

from .registry import Published, register_model

PAPER = "C. Szegedy et al., \"Going deeper with convolutions\", CVPR 2015"

# Table 1: #1x1, #3x3 reduce, #3x3, #5x5 reduce, #5x5, pool proj.
INCEPTION = {
    "3a": (64, 96, 128, 16, 32, 32),
    "3b": (128, 128, 192, 32, 96, 64),
    "4a": (192, 96, 208, 16, 48, 64),
    "4b": (160, 112, 224, 24, 64, 64),
    "4c": (128, 128, 256, 24, 64, 64),
    "4d": (112, 144, 288, 32, 64, 64),
    "4e": (256, 160, 320, 32, 128, 128),
    "5a": (256, 160, 320, 32, 128, 128),
    "5b": (384, 192, 384, 48, 128, 128),
}


def conv_relu(in_channels: int, out_channels: int, kernel_size: int, stride: int = 1) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(in_channels, out_channels, kernel_size, stride=stride,
                                   padding=kernel_size // 2),
                         nn.ReLU(inplace=True))


def max_pool(kernel_size: int = 3, stride: int = 2) -> nn.MaxPool2d:
    # Ceil mode turns 112 into 56 (not 55) and so on down Table 1, like the Caffe reference model.
    return nn.MaxPool2d(kernel_size, stride, ceil_mode=True)


class Inception(nn.Module):
    def __init__(self, in_channels: int, n1x1: int, n3x3red: int, n3x3: int, n5x5red: int, n5x5: int,
                 pool_proj: int):
        super().__init__()
        self.branch1 = conv_relu(in_channels, n1x1, 1)
        self.branch2 = nn.Sequential(conv_relu(in_channels, n3x3red, 1), conv_relu(n3x3red, n3x3, 3))
        self.branch3 = nn.Sequential(conv_relu(in_channels, n5x5red, 1), conv_relu(n5x5red, n5x5, 5))
        self.branch4 = nn.Sequential(nn.MaxPool2d(3, stride=1, padding=1), conv_relu(in_channels, pool_proj, 1))
        self.out_channels = n1x1 + n3x3 + n5x5 + pool_proj

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([self.branch1(x), self.branch2(x), self.branch3(x), self.branch4(x)], dim=1)


class AuxClassifier(nn.Module):
    def __init__(self, in_channels: int, num_classes: int):
        super().__init__()
        self.pool = nn.AvgPool2d(5, stride=3)
        self.conv = conv_relu(in_channels, 128, 1)
        self.fc1 = nn.Linear(128 * 4 * 4, 1024)
        self.relu = nn.ReLU(inplace=True)
        self.dropout = nn.Dropout(0.7)
        self.fc2 = nn.Linear(1024, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.flatten(self.conv(self.pool(x)), 1)
        return self.fc2(self.dropout(self.relu(self.fc1(x))))


class GoogLeNet(nn.Module):
    def __init__(self, num_classes: int = 1000, aux_logits: bool = True, dropout: float = 0.4):
        super().__init__()
        self.conv1 = conv_relu(3, 64, 7, stride=2)
        self.maxpool1 = max_pool()
        self.lrn1 = nn.LocalResponseNorm(5, alpha=1e-4, beta=0.75, k=2.0)
        self.conv2 = conv_relu(64, 64, 1)
        self.conv3 = conv_relu(64, 192, 3)
        self.lrn2 = nn.LocalResponseNorm(5, alpha=1e-4, beta=0.75, k=2.0)
        self.maxpool2 = max_pool()
        channels = 192
        for name in INCEPTION:
            module = Inception(channels, *INCEPTION[name])
            setattr(self, f"inception{name}", module)
            channels = module.out_channels
            if name == "3b":
                self.maxpool3 = max_pool()
            elif name == "4e":
                self.maxpool4 = max_pool()
        self.avgpool = nn.AvgPool2d(7, stride=1)
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(channels, num_classes)
        self.aux1: Optional[AuxClassifier] = AuxClassifier(512, num_classes) if aux_logits else None
        self.aux2: Optional[AuxClassifier] = AuxClassifier(528, num_classes) if aux_logits else None

    def forward(self, x: torch.Tensor):
        x = self.maxpool1(self.conv1(x))
        x = self.maxpool2(self.lrn2(self.conv3(self.conv2(self.lrn1(x)))))
        x = self.maxpool3(self.inception3b(self.inception3a(x)))
        x = self.inception4a(x)
        # The auxiliary heads only add to the training loss (section 5); inference never computes them.
        aux1 = self.aux1(x) if self.training and self.aux1 is not None else None
        x = self.inception4d(self.inception4c(self.inception4b(x)))
        aux2 = self.aux2(x) if self.training and self.aux2 is not None else None
        x = self.maxpool4(self.inception4e(x))
        x = self.inception5b(self.inception5a(x))
        logits = self.fc(self.dropout(torch.flatten(self.avgpool(x), 1)))
        if aux1 is not None:
            return logits, aux1, aux2
        return logits


# Table 1's rows sum to 6,797.7K parameters and 1,502M operations. Each tolerance is half a unit of the rounded
# figure plus the table's own errors derived in the module docstring, not the model's distance from the figure.
_PARAMS_TOL = (50_000 + 192_572 + 8_280) / 6.8e6   # rounding + parameter-column undercount + biases
_MACS_TOL = (0.05e9 + (118_013_952 - 34e6)) / 1.5e9  # rounding + the 7x7 row's missing MACs


@register_model(family="googlenet", paper=PAPER, input_size=(3, 224, 224),
                published=Published(params=6_800_000, params_rel_tol=_PARAMS_TOL, macs=1.5e9,
                                     macs_rel_tol=_MACS_TOL,
                                     source="paper Table 1 / section 5: about 6.8M parameters and 1.5G multiply-adds "
                                            "without auxiliary classifiers; tolerances add to the rounding the "
                                            "table's errors (7x7 row: 2.7K params/34M ops for a layer of 9,408 "
                                            "weights/118M MACs; parameter column 192.6K low; no biases)"))
def googlenet(num_classes: int = 1000, aux_logits: bool = True) -> nn.Module:
    """GoogLeNet (Inception v1) as in Table 1: true 5x5 branches, LRN, no batch norm; aux heads train-only"""
    return GoogLeNet(num_classes=num_classes, aux_logits=aux_logits)
