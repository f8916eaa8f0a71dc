"""A user model that counts its own forward and backward passes (``tests/test_trace_count.py``). The counts
live on ``torch`` itself so that every copy of this file the loader makes shares them."""
import torch
from torch import nn

input_size = (3, 32, 32)
COUNTS = torch.__dict__.setdefault("_cnnprofile_test_counts", {"forward": 0, "backward": 0})


class Counted(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3, padding=1)
        self.conv2 = nn.Conv2d(8, 8, 3, stride=2, padding=1)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(8, 10)

    def forward(self, x):
        COUNTS["forward"] += 1
        y = torch.relu(self.conv1(x))
        if y.requires_grad:
            y.register_hook(_backward)
        return self.fc(torch.flatten(self.pool(torch.relu(self.conv2(y))), 1))


def _backward(grad):
    COUNTS["backward"] += 1


def build():
    return Counted()
