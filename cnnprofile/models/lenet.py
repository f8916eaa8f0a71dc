"""LeNet-5 (LeCun, Bottou, Bengio & Haffner, Proc. IEEE 86(11), 1998), section II.B and Table I.

Paper-faithful: 1x32x32 input; C1 6@5x5; S2 and S4 are the paper's subsampling layers (the sum of each 2x2
block times one trainable coefficient plus one trainable bias per map, then the squashing function, not
average or max pooling); C3's 16 maps see only the S2 maps of Table I; C5 120@5x5 over all 16 maps of S4
(a convolution, not a flatten + linear, although its output is 1x1 at 32x32); F6 84 units; the output layer
is 10 Euclidean RBF units. Every hidden layer ends in f(a) = A tanh(S a) with A = 1.7159, S = 2/3.

C3 is built from one grouped convolution per block of Table I columns that see the same number of S2 maps,
fed by a fixed gather of the selected maps, so its parameters (1,516) and multiply-accumulates (151,600 minus
the 1,600 bias additions) are exactly those of the partial connections; a masked dense 6->16 convolution
would report 2,416 parameters and 240,000 MACs.

Not reproduced: the paper's RBF parameter vectors are +-1 renderings of 7x12 bitmaps of the characters,
which the paper does not print; here they are a fixed pseudo-random +-1 code (seeded, so every build is
identical). They are a buffer, not parameters, because the paper keeps them fixed. The RBF outputs are the
paper's penalties y_i = sum_j (x_j - w_ij)^2: the predicted class is the argmin, not the argmax.
"""
from __future__ import annotations

import torch
from torch import nn
import torch.nn.functional as F

from .registry import Published, register_model

PAPER = ("Y. LeCun, L. Bottou, Y. Bengio and P. Haffner, \"Gradient-based learning applied to document "
         "recognition\", Proceedings of the IEEE 86(11), 1998")

# Table I: for each of C3's 16 maps, the S2 maps it is connected to.
C3_TABLE: tuple[tuple[int, ...], ...] = (
    (0, 1, 2), (1, 2, 3), (2, 3, 4), (3, 4, 5), (4, 5, 0), (5, 0, 1),
    (0, 1, 2, 3), (1, 2, 3, 4), (2, 3, 4, 5), (3, 4, 5, 0), (4, 5, 0, 1), (5, 0, 1, 2),
    (0, 1, 3, 4), (1, 2, 4, 5), (0, 2, 3, 5),
    (0, 1, 2, 3, 4, 5),
)


class Squash(nn.Module):
    """The paper's sigmoid f(a) = A tanh(S a) (equation (6), appendix A)."""

    def __init__(self, amplitude: float = 1.7159, slope: float = 2.0 / 3.0):
        super().__init__()
        self.amplitude, self.slope = amplitude, slope

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.amplitude * torch.tanh(self.slope * x)

    def extra_repr(self) -> str:
        return f"amplitude={self.amplitude}, slope={self.slope:.4f}"


class Subsampling(nn.Module):
    """S2/S4: 2x2 sum times a per-map coefficient plus a per-map bias (2 parameters per map)."""

    def __init__(self, channels: int):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(channels))
        self.bias = nn.Parameter(torch.zeros(channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        summed = F.avg_pool2d(x, kernel_size=2, stride=2, divisor_override=1)
        return summed * self.weight.view(1, -1, 1, 1) + self.bias.view(1, -1, 1, 1)


class PartialConv(nn.Module):
    """C3: each output map convolves only its own input maps (a connection table such as Table I).

    Consecutive maps with the same fan-in share one grouped convolution; the input maps each of them needs
    are gathered (and duplicated where two maps share an input) into that convolution's groups.
    """

    def __init__(self, table, kernel_size: int = 5):
        super().__init__()
        self.table = tuple(tuple(maps) for maps in table)
        self.blocks = nn.ModuleList()
        blocks: list[list[tuple[int, ...]]] = []
        for maps in self.table:
            if blocks and len(blocks[-1][0]) == len(maps):
                blocks[-1].append(maps)
            else:
                blocks.append([maps])
        for i, block in enumerate(blocks):
            fan_in = len(block[0])
            self.register_buffer(f"index{i}", torch.tensor([m for maps in block for m in maps]), persistent=False)
            self.blocks.append(nn.Conv2d(fan_in * len(block), len(block), kernel_size, groups=len(block)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        outs = [conv(x.index_select(1, getattr(self, f"index{i}"))) for i, conv in enumerate(self.blocks)]
        return torch.cat(outs, dim=1)  # blocks are consecutive runs of the table, so this is Table I's order


class EuclideanRBF(nn.Module):
    """Output layer: y_i = ||x - w_i||^2 against fixed parameter vectors w_i (equation (7))."""

    def __init__(self, in_features: int, num_classes: int, seed: int = 0):
        super().__init__()
        generator = torch.Generator().manual_seed(seed)
        code = torch.randint(0, 2, (num_classes, in_features), generator=generator, device="cpu") * 2.0 - 1.0
        # The generator lives on the CPU; move the code to wherever the model is being built (e.g. meta).
        self.register_buffer("centers", code.to(torch.get_default_device()))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # Expanded as ||x||^2 - 2 x.w + ||w||^2 so the 84 x num_classes products go through a matmul,
        # which MAC counters see; a broadcast (x - w)^2 would hide them.
        return ((x * x).sum(1, keepdim=True) - 2 * x @ self.centers.t()
                + (self.centers * self.centers).sum(1))


class LeNet5(nn.Module):
    def __init__(self, num_classes: int = 10):
        super().__init__()
        self.c1 = nn.Conv2d(1, 6, kernel_size=5)
        self.s2 = Subsampling(6)
        self.c3 = PartialConv(C3_TABLE)
        self.s4 = Subsampling(16)
        self.c5 = nn.Conv2d(16, 120, kernel_size=5)
        self.f6 = nn.Linear(120, 84)
        self.output = EuclideanRBF(84, num_classes)
        self.squash = Squash()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # Every unit up to F6 is squashed, subsampling units included (section II.A/B); the RBF outputs are not.
        x = self.squash(self.s2(self.squash(self.c1(x))))
        x = self.squash(self.s4(self.squash(self.c3(x))))
        x = self.squash(self.c5(x))
        x = self.squash(self.f6(torch.flatten(x, 1)))
        return self.output(x)


@register_model(family="lenet", paper=PAPER, input_size=(1, 32, 32), num_classes=10,
                published=Published(params=60_000, params_rel_tol=0.0,
                                    source="paper section II.B: trainable parameters C1 156, S2 12, C3 1,516, "
                                           "S4 32, C5 48,120, F6 10,164 (sum 60,000); the RBF layer has none"))
def lenet5(num_classes: int = 10) -> nn.Module:
    """LeNet-5 with Table I's partial C3 connections, trainable subsampling and a fixed Euclidean RBF output"""
    return LeNet5(num_classes=num_classes)
