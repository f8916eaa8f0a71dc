"""The main output (``outputs.main_tensor``) is the first tensor, depth first, of any structure, the quick cases
(a tensor, a tuple or list opening with one) included."""
import dataclasses
from collections import namedtuple

import pytest
import torch

from cnnprofile.outputs import main_shape, main_tensor

a, b, c = torch.empty(2, 3), torch.empty(4), torch.empty(1, 5, 6)
Pair = namedtuple("Pair", "logits aux")


@dataclasses.dataclass
class Out:
    loss: object
    logits: torch.Tensor


@pytest.mark.parametrize("value,first", [
    (a, a), ((a, b), a), ([b, a], b), (Pair(c, a), c), ({"out": b, "aux": a}, b), (Out(None, c), c),
    ((None, a, b), a), ([{"boxes": c}, a], c), (((b,), a), b), ((), None), ([], None), (3, None), ("x", None),
])
def test_main_tensor_is_the_first_tensor_depth_first(value, first):
    assert main_tensor(value) is first
    assert main_shape(value) == (tuple(first.shape) if first is not None else ())
