"""The formula registry: every entry names a real ATen op and states its rule; costs checked by hand."""
import pytest
import torch
from torch import nn

from cnnprofile.engines import get_engine
from cnnprofile.analyses.formulas import FORMULAS, RULES, cost_of


def count(module, shape, **kwargs):
    """The meta engine on inputs of any rank (the front door still takes NCHW shapes)."""
    return get_engine("meta").count(module, shape, **kwargs)


@pytest.mark.parametrize("name", sorted(FORMULAS))
def test_every_formula_names_a_real_aten_op_and_a_rule(name):
    namespace, op = name.split(".", 1)
    assert namespace == "aten" and hasattr(torch.ops.aten, op), name
    assert RULES[name]


def test_unknown_op_has_no_cost():
    assert cost_of("aten.not_an_op", (), {}, None) is None


@pytest.mark.parametrize("module, shape, macs, extra_flops", [
    (nn.Linear(10, 3, bias=False), (4, 10), 4 * 10 * 3, 0),
    (nn.Linear(10, 3), (4, 10), 4 * 10 * 3, 4 * 3),
    (nn.Conv1d(2, 5, 3, bias=False), (1, 2, 9), 5 * 7 * 2 * 3, 0),
    (nn.Conv3d(2, 4, 3, padding=1, bias=False), (1, 2, 4, 4, 4), 4 * 64 * 2 * 27, 0),
    (nn.BatchNorm2d(3), (2, 3, 4, 4), 0, 2 * 2 * 3 * 16),
    (nn.ReLU(), (2, 3, 4, 4), 0, 2 * 3 * 16),
    (nn.AvgPool2d(2), (1, 3, 4, 4), 0, 3 * 4 * 4),
    (nn.Softmax(dim=1), (2, 10), 0, 3 * 20),
    (nn.LayerNorm(8), (2, 8), 0, 5 * 16),
])
def test_module_costs_by_hand(module, shape, macs, extra_flops):
    p = count(module, shape, dtype=torch.float32, name="m")
    assert p.totals.macs == macs
    assert p.totals.flops == 2 * macs + extra_flops
    assert not p.uncounted_ops


def test_batched_matmul_and_attention_style_ops():
    class Attention(nn.Module):
        def forward(self, x):  # x: (B, L, E)
            scores = torch.softmax(x @ x.transpose(1, 2), dim=-1)
            return scores @ x

    p = count(Attention(), (2, 5, 4), dtype=torch.float32, name="m")
    assert p.totals.macs == 2 * (2 * 5 * 4 * 5)  # QK^T and AV, each B x L x E x L
    assert not p.uncounted_ops
