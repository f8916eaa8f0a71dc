"""Tiny models of each kind of input and output, small enough to count by hand (see tests/test_inputs_outputs.py)."""
from dataclasses import dataclass

import torch
from torch import nn


def audio():
    """Conv1d over a 2-channel signal: input 1x2x100."""
    return nn.Sequential(nn.Conv1d(2, 4, 5, padding=2), nn.ReLU(), nn.AdaptiveAvgPool1d(1), nn.Flatten(),
                         nn.Linear(4, 3))


def video():
    """Conv3d over a clip: input 1x3x4x8x8 (N, C, T, H, W)."""
    return nn.Sequential(nn.Conv3d(3, 4, 3, padding=1), nn.ReLU())


def upsample():
    """A 1-D transposed convolution: input 1x4x10 -> 1x2x21."""
    return nn.ConvTranspose1d(4, 2, 3, stride=2, output_padding=0)


class TwoInputs(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 1)
        self.fc = nn.Linear(5, 4)

    def forward(self, image, features):
        return self.conv(image).mean((2, 3)) + self.fc(features)


def two_inputs():
    """An image 1x3x8x8 and a feature vector 1x5."""
    return TwoInputs()


class Masked(nn.Module):
    def __init__(self):
        super().__init__()
        self.proj = nn.Linear(6, 6)

    def forward(self, x, *, mask):
        return self.proj(x) * mask.unsqueeze(-1)


def masked():
    """A sequence 1x10x6 and a keyword-only boolean mask=1x10."""
    return Masked()


class Tokens(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(50, 8)
        self.conv = nn.Conv1d(8, 8, 3)

    def forward(self, ids):
        return self.conv(self.embed(ids).transpose(1, 2))


def tokens():
    """Token ids 1x12:int64 into an embedding of 50, then a Conv1d."""
    return Tokens()


class TwoHeads(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Conv2d(3, 4, 3)
        self.logits = nn.Linear(4, 10)
        self.box = nn.Linear(4, 4)

    def forward(self, x):
        h = self.body(x).amax((2, 3))
        return {"logits": self.logits(h), "box": self.box(h)}


def dict_output():
    """A classifier with a box head, returning a dict: input 1x3x6x6."""
    return TwoHeads()


@dataclass
class Output:
    logits: torch.Tensor
    features: torch.Tensor


class DataclassOut(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(3, 2)

    def forward(self, x):
        return Output(self.fc(x), x)


def dataclass_output():
    return DataclassOut()
