"""Norms take their order before their dims (linalg_vector_norm(x, ord, dim, keepdim)); the receptive-field
rule reads the dims, not the order. EdgeNeXt, XCiT and SwinV2-CR normalise this way, and failed with
"tuple indices must be integers or slices, not float" before."""
import torch
from torch import nn

from cnnprofile.analyzer import analyze


class Normalised(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.conv, self.dim = nn.Conv2d(3, 4, 3), dim

    def forward(self, x):
        y = self.conv(x)
        return y / torch.linalg.vector_norm(y, 2.0, [self.dim], True)


def test_a_norm_over_channels_keeps_the_field():
    prof, _ = analyze(Normalised(1), (1, 3, 16, 16), rf=True)
    last = prof.layers[-1]
    assert (last.receptive_field, last.whole_input) == (3, False)  # a 3x3 convolution's field, by hand


def test_a_norm_over_width_sees_the_whole_input():
    prof, _ = analyze(Normalised(-1), (1, 3, 16, 16), rf=True)
    assert prof.layers[-1].whole_input is True
