"""Inception-v4 (Szegedy, Ioffe, Vanhoucke, Alemi, "Inception-v4, Inception-ResNet and the impact of residual
connections on learning", AAAI 2017, arXiv 1602.07261).

Paper-faithful (Figures 3 to 9): 3x299x299 input.
- Stem (Figure 3): 3x3/2 (32, V), 3x3 (32, V), 3x3 (64); [max pool 3x3/2 V | 3x3/2 (96, V)] -> 160;
  [1x1 (64), 3x3 (96, V) | 1x1 (64), 7x1 (64), 1x7 (64), 3x3 (96, V)] -> 192;
  [3x3/2 (192, V) | max pool /2 V] -> 35x35x384.
- 4 x Inception-A (Figure 4): avg pool -> 1x1 (96) | 1x1 (96) | 1x1 (64) -> 3x3 (96) |
  1x1 (64) -> 3x3 (96) -> 3x3 (96); 384 channels.
- Reduction-A (Figure 7, with Table 1's k=192, l=224, m=256, n=384): max pool 3x3/2 | 3x3/2 (n) |
  1x1 (k) -> 3x3 (l) -> 3x3/2 (m); 17x17x1024.
- 7 x Inception-B (Figure 5): avg pool -> 1x1 (128) | 1x1 (384) | 1x1 (192) -> 1x7 (224) -> 7x1 (256) |
  1x1 (192) -> 1x7 (192) -> 7x1 (224) -> 1x7 (224) -> 7x1 (256); 1024 channels.
- Reduction-B (Figure 8): max pool 3x3/2 | 1x1 (192) -> 3x3/2 (192) | 1x1 (256) -> 1x7 (256) -> 7x1 (320) ->
  3x3/2 (320); 8x8x1536.
- 3 x Inception-C (Figure 6): avg pool -> 1x1 (256) | 1x1 (256) | 1x1 (384) -> [1x3 (256), 3x1 (256)] |
  1x1 (384) -> 1x3 (448) -> 3x1 (512) -> [1x3 (256), 3x1 (256)]; 1536 channels.
- Average pooling, dropout (keep 0.8), FC 1000 (Figure 9).
"V" marks the paper's unpadded ("valid") layers; all others keep the grid size. Every convolution is followed by
batch normalisation (eps 0.001) and ReLU and has no bias, as in the authors' TF-slim release and timm's
``inception_v4`` port of it (whose 1x7/7x1 order in some branches is swapped, which changes neither parameters
nor MACs).

The paper gives no parameter or operation count. timm's ``inception_v4`` has 42,679,816 parameters, which this
network matches exactly; the tests rebuild timm's model to check it and run timm's model through our own analyzer
to compare MACs (12.25G at 299x299).
"""
from __future__ import annotations

import torch
from torch import nn

from .registry import Published, register_model

PAPER = ("C. Szegedy, S. Ioffe, V. Vanhoucke and A. Alemi, \"Inception-v4, Inception-ResNet and the impact of "
         "residual connections on learning\", AAAI 2017 (arXiv 1602.07261)")


def conv(in_channels: int, out_channels: int, kernel_size, stride=1, valid: bool = False) -> nn.Sequential:
    """Conv (no bias) + BN + ReLU; "same" padding unless ``valid`` (the paper's "V")."""
    k = (kernel_size, kernel_size) if isinstance(kernel_size, int) else kernel_size
    padding = (0, 0) if valid else (k[0] // 2, k[1] // 2)
    return nn.Sequential(nn.Conv2d(in_channels, out_channels, k, stride=stride, padding=padding, bias=False),
                         nn.BatchNorm2d(out_channels, eps=0.001), nn.ReLU(inplace=True))


def avg_pool_branch(in_channels: int, out_channels: int) -> nn.Sequential:
    return nn.Sequential(nn.AvgPool2d(3, stride=1, padding=1, count_include_pad=False),
                         conv(in_channels, out_channels, 1))


class Concat(nn.Module):
    """Runs every branch on the same input and concatenates along channels (the "Filter concat" boxes)."""

    def __init__(self, *branches: nn.Module):
        super().__init__()
        self.branches = nn.ModuleList(branches)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([b(x) for b in self.branches], 1)


class Split(nn.Module):
    """Figure 6's fan-out: 1x3 and 3x1 side by side on the same map."""

    def __init__(self, in_channels: int, out_channels: int):
        super().__init__()
        self.b1x3 = conv(in_channels, out_channels, (1, 3))
        self.b3x1 = conv(in_channels, out_channels, (3, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([self.b1x3(x), self.b3x1(x)], 1)


def stem() -> nn.Sequential:
    return nn.Sequential(
        conv(3, 32, 3, stride=2, valid=True), conv(32, 32, 3, valid=True), conv(32, 64, 3),
        Concat(nn.MaxPool2d(3, stride=2), conv(64, 96, 3, stride=2, valid=True)),
        Concat(nn.Sequential(conv(160, 64, 1), conv(64, 96, 3, valid=True)),
               nn.Sequential(conv(160, 64, 1), conv(64, 64, (7, 1)), conv(64, 64, (1, 7)),
                             conv(64, 96, 3, valid=True))),
        Concat(conv(192, 192, 3, stride=2, valid=True), nn.MaxPool2d(3, stride=2)),
    )


def inception_a(c: int = 384) -> Concat:
    return Concat(avg_pool_branch(c, 96), conv(c, 96, 1),
                  nn.Sequential(conv(c, 64, 1), conv(64, 96, 3)),
                  nn.Sequential(conv(c, 64, 1), conv(64, 96, 3), conv(96, 96, 3)))


def reduction_a(c: int = 384, klmn: tuple = (192, 224, 256, 384)) -> Concat:
    """Figure 7 with Table 1's filter counts k, l, m, n for Inception-v4."""
    k, l_, m, n = klmn
    return Concat(nn.MaxPool2d(3, stride=2), conv(c, n, 3, stride=2, valid=True),
                  nn.Sequential(conv(c, k, 1), conv(k, l_, 3), conv(l_, m, 3, stride=2, valid=True)))


def inception_b(c: int = 1024) -> Concat:
    return Concat(avg_pool_branch(c, 128), conv(c, 384, 1),
                  nn.Sequential(conv(c, 192, 1), conv(192, 224, (1, 7)), conv(224, 256, (7, 1))),
                  nn.Sequential(conv(c, 192, 1), conv(192, 192, (1, 7)), conv(192, 224, (7, 1)),
                                conv(224, 224, (1, 7)), conv(224, 256, (7, 1))))


def reduction_b(c: int = 1024) -> Concat:
    return Concat(nn.MaxPool2d(3, stride=2),
                  nn.Sequential(conv(c, 192, 1), conv(192, 192, 3, stride=2, valid=True)),
                  nn.Sequential(conv(c, 256, 1), conv(256, 256, (1, 7)), conv(256, 320, (7, 1)),
                                conv(320, 320, 3, stride=2, valid=True)))


def inception_c(c: int = 1536) -> Concat:
    return Concat(avg_pool_branch(c, 256), conv(c, 256, 1),
                  nn.Sequential(conv(c, 384, 1), Split(384, 256)),
                  nn.Sequential(conv(c, 384, 1), conv(384, 448, (1, 3)), conv(448, 512, (3, 1)), Split(512, 256)))


class InceptionV4(nn.Module):
    def __init__(self, num_classes: int = 1000, dropout: float = 0.2):
        super().__init__()
        self.stem = stem()
        self.inception_a = nn.Sequential(*[inception_a() for _ in range(4)])
        self.reduction_a = reduction_a()
        self.inception_b = nn.Sequential(*[inception_b() for _ in range(7)])
        self.reduction_b = reduction_b()
        self.inception_c = nn.Sequential(*[inception_c() for _ in range(3)])
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.dropout = nn.Dropout(dropout)  # Figure 9: keep 0.8
        self.fc = nn.Linear(1536, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.reduction_a(self.inception_a(self.stem(x)))
        x = self.inception_c(self.reduction_b(self.inception_b(x)))
        return self.fc(self.dropout(torch.flatten(self.avgpool(x), 1)))


@register_model(family="inception_v4", paper=PAPER, input_size=(3, 299, 299),
                published=Published(params=42_679_816,
                                    source="timm inception_v4 (a port of the authors' TF-slim release): 42,679,816 "
                                           "parameters; the paper gives none. The tests rebuild timm's model"))
def inception_v4(num_classes: int = 1000) -> nn.Module:
    """Inception-v4: stem, 4 x A, reduction A, 7 x B, reduction B, 3 x C (Figures 3-9)"""
    return InceptionV4(num_classes)
