"""A user's own small CNN, loaded by spec (tests/models/tiny.py:build) in the tests.

It has a residual addition and a concatenation in ``forward``, so the functional rows of both engines are
exercised, and declares its input size the documented way.
"""
import torch
from torch import nn

INPUT_SIZE = (3, 32, 32)


class Tiny(nn.Module):
    def __init__(self, num_classes: int = 10, width: int = 8):
        super().__init__()
        self.stem = nn.Conv2d(3, width, 3, padding=1)
        self.bn = nn.BatchNorm2d(width)
        self.branch = nn.Conv2d(width, width, 3, padding=1, bias=False)
        self.side = nn.Conv2d(width, width, 1)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(2 * width, num_classes)

    def forward(self, x):
        x = torch.relu(self.bn(self.stem(x)))
        x = x + self.branch(x)  # residual add
        x = torch.cat([x, self.side(x)], dim=1)
        return self.fc(torch.flatten(self.pool(x), 1))


def build(num_classes: int = 10, width: int = 8) -> nn.Module:
    return Tiny(num_classes, width)


def broken(**kwargs):
    raise RuntimeError("cannot build this one")


def not_a_module():
    return 42
