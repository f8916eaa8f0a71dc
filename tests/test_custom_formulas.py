"""Formulas for one call (``profile(..., formulas=...)``) and for good (``register_formula``), on a real custom
op defined with ``torch.library`` and a meta kernel, as a user's own op would be."""
import pytest
import torch
from torch import nn

import cnnprofile
from cnnprofile import Cost, register_formula
from cnnprofile.analyses.formulas import FORMULAS, RULES


@torch.library.custom_op("cnnprofile_test::blend", mutates_args=())
def blend(x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    """out[n, c] = sum over the channels of x weighted by w: a 1x1 convolution in disguise."""
    return torch.einsum("nchw,oc->nohw", x, w)


@blend.register_fake
def _(x, w):
    return x.new_empty((x.shape[0], w.shape[0], *x.shape[2:]))


class Blend(nn.Module):
    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(torch.randn(5, 3))

    def forward(self, x):
        return torch.relu(blend(x, self.w))


SHAPE = (2, 3, 4, 4)
OUT = 2 * 5 * 4 * 4
MACS = OUT * 3  # each output element sums 3 products


def blend_cost(args, kwargs, out):
    x, w = args
    macs = out.numel() * w.shape[1]
    return Cost(macs=macs, flops=2 * macs)


def test_a_custom_op_without_a_formula_is_uncounted():
    p = cnnprofile.profile(Blend(), SHAPE)
    assert [u.op for u in p.uncounted_ops] == ["cnnprofile_test.blend"]
    assert p.totals.macs == 0 and p.totals.flops == OUT  # only the ReLU


def test_formulas_for_one_call_count_the_op_and_are_forgotten_afterwards():
    p = cnnprofile.profile(Blend(), SHAPE, formulas={"cnnprofile_test.blend": blend_cost})
    assert p.totals.macs == MACS and p.totals.flops == 2 * MACS + OUT and not p.uncounted_ops
    by_op = cnnprofile.profile(Blend(), SHAPE, formulas={torch.ops.cnnprofile_test.blend: blend_cost})
    assert by_op.totals == p.totals  # the op itself is accepted as the key
    assert cnnprofile.profile(Blend(), SHAPE).uncounted_ops  # nothing registered for good


def test_formulas_for_one_call_override_the_registry():
    free_relu = {"aten.relu": lambda args, kwargs, out: Cost()}
    p = cnnprofile.profile(nn.Sequential(nn.Conv2d(3, 2, 1, bias=False), nn.ReLU()), SHAPE, formulas=free_relu)
    assert p.totals.flops == 2 * (2 * 2 * 16 * 3)  # the convolution's 2 x MACs, the ReLU's 1 per element gone
    assert cnnprofile.profile(nn.ReLU(), SHAPE).totals.flops == 2 * 3 * 16


def test_a_formula_must_return_a_cost():
    with pytest.raises(cnnprofile.CnnprofileError, match="returned int.*Cost"):
        cnnprofile.profile(Blend(), SHAPE, formulas={"cnnprofile_test.blend": lambda a, k, o: 7})


def test_register_formula_counts_a_custom_op_from_then_on():
    assert "cnnprofile_test.blend" not in FORMULAS
    try:
        register_formula(torch.ops.cnnprofile_test.blend.default, blend_cost, rule="MACs = output x C_in")
        assert RULES["cnnprofile_test.blend"] == "MACs = output x C_in"
        p = cnnprofile.profile(Blend(), SHAPE)
        assert p.totals.macs == MACS and not p.uncounted_ops
        with pytest.raises(cnnprofile.CnnprofileError, match="already has a formula"):
            register_formula("cnnprofile_test::blend", blend_cost)
    finally:
        FORMULAS.pop("cnnprofile_test.blend", None)
        RULES.pop("cnnprofile_test.blend", None)


def test_engines_that_cannot_use_formulas_say_so():
    with pytest.raises(cnnprofile.CnnprofileError, match="meta engine"):
        cnnprofile.profile(Blend(), SHAPE, engine="fvcore", formulas={"cnnprofile_test.blend": blend_cost})
