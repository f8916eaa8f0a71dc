"""fvcore as an independent second engine: the two engines agree on MACs and parameters, row by row, and
differ elsewhere only in the documented ways (see the docstring of cnnprofile.engines.fvcore_engine)."""
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
import torch
from torch import nn

import cnnprofile
from cnnprofile.engines import fvcore_engine
from cnnprofile.errors import TraceError

pytestmark = pytest.mark.slow  # an oracle over many models: `-m "not slow"` skips it while developing

TINY = str(Path(__file__).parent / "models" / "tiny.py")


def by_name(profile, field):
    out = Counter()
    for row in profile.layers:
        out[row.name] += getattr(row, field)
    return +out


# fvcore runs a real forward pass: the models whose layers accept it run at 64x64 (the engines' formulas do not
# depend on the size, and both engines see the same shapes); VGG-16 and ResNet-50 always at their native size.
NATIVE = {"vgg16": 13, "resnet50": 53}  # name: convolution rows that must carry MACs


def agreement_input(spec):
    """(input shape, the meta engine's profile at it); None: the native size."""
    small = (1, spec.input_size[0], 64, 64)
    if spec.name not in NATIVE and small[2] * small[3] < spec.input_size[1] * spec.input_size[2]:
        try:
            return small, cnnprofile.profile(spec.name, small)
        except TraceError:  # fixed-size classifiers (VGG, AlexNet, GoogLeNet's 7x7 pooling)
            pass
    return None, cnnprofile.profile(spec.name)


@pytest.mark.parametrize("spec", cnnprofile.list_models(), ids=lambda s: s.name)
def test_the_engines_agree_on_every_zoo_model(spec):
    shape, meta = agreement_input(spec)
    fv = cnnprofile.profile(spec.name, shape, engine="fvcore")
    assert fv.engine == "fvcore" and meta.engine == "meta" and fv.input_shape == meta.input_shape
    # Exactly, per module qualified name (a parent's own ops form one row named after it in both engines).
    assert by_name(fv, "macs") == by_name(meta, "macs")
    assert by_name(fv, "params") == by_name(meta, "params")
    assert fv.totals.macs == meta.totals.macs and fv.totals.params == meta.totals.params
    assert fv.unused_params == meta.unused_params
    if spec.name in NATIVE:
        assert fv.input_shape == (1, *spec.input_size)
        assert sum(1 for r in fv.layers if r.kind == "conv" and r.macs > 0) == NATIVE[spec.name]


class Probe(nn.Module):
    """One of each op whose treatment differs between the engines."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)  # with a bias
        self.bn = nn.BatchNorm2d(4)
        self.relu = nn.ReLU()
        self.maxpool = nn.MaxPool2d(2)
        self.avgpool = nn.AvgPool2d(2)
        self.gap = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(4, 5)

    def forward(self, x):
        y = self.relu(self.bn(self.conv(x)))
        y = y + y  # a residual-style addition
        y = self.gap(self.avgpool(self.maxpool(y)))
        return torch.softmax(self.fc(torch.flatten(y, 1)), dim=1)


def test_documented_differences():
    model, shape = Probe(), (1, 3, 8, 8)
    meta = cnnprofile.profile(model, shape)
    fv = fvcore_engine.ENGINE.count(model, shape, dtype=torch.float32, name="Probe")
    m, f = {r.name: r for r in meta.layers}, {r.name: r for r in fv.layers}
    conv_out, fc_out = 4 * 8 * 8, 5

    # fvcore's "flop" is one multiply-add: its raw counts for conv and linear are our MACs, biases excluded.
    from fvcore.nn import FlopCountAnalysis

    raw = FlopCountAnalysis(model, torch.randn(shape)).unsupported_ops_warnings(False).by_operator()
    assert raw["conv"] == m["conv"].macs == 8 * 8 * 4 * 27 and raw["linear"] == m["fc"].macs == 20
    assert f["conv"].macs == m["conv"].macs and f["fc"].macs == m["fc"].macs
    # FLOPs: fvcore does not add the bias; the meta engine adds one per output element.
    assert f["conv"].flops == 2 * f["conv"].macs and m["conv"].flops == 2 * m["conv"].macs + conv_out
    # Batch norm (eval, affine): 2 per element in both engines; adaptive average pooling: 1 per input element.
    assert f["bn"].flops == m["bn"].flops == 2 * conv_out
    assert f["gap"].flops == m["gap"].flops == 4 * 2 * 2
    # Not counted by fvcore: ReLU silently (its ignore list); max/avg pooling, the addition and softmax are
    # reported as uncounted. The meta engine charges them per element.
    assert f["relu"].flops == 0 and not f["relu"].uncounted_ops and m["relu"].flops == conv_out
    assert f["maxpool"].uncounted_ops == ("aten.max_pool2d",) and m["maxpool"].flops > 0
    assert f["avgpool"].uncounted_ops == ("aten.avg_pool2d",) and m["avgpool"].flops > 0
    assert set(f["(model)"].uncounted_ops) == {"aten.add", "aten.softmax"} and f["(model)"].flops == 0
    assert {u.op for u in fv.uncounted_ops} == {"aten.max_pool2d", "aten.avg_pool2d", "aten.add", "aten.softmax"}
    # Activations: fvcore counts only conv and matmul outputs (not the input); we count every new tensor.
    assert fv.totals.activation_elems == conv_out + fc_out and f["input"].activation_elems == 0
    assert meta.totals.activation_elems > fv.totals.activation_elems and m["input"].activation_elems == 3 * 64
    # Parameters: the same tensors, biases and batch-norm affine weights included, running statistics not.
    assert fv.totals.params == meta.totals.params == sum(p.numel() for p in model.parameters())


def test_attention_products_are_uncounted_by_fvcore():
    class Attention(nn.Module):
        def forward(self, x):  # (N, C, H, W) -> one head over H*W tokens of width C
            t = x.flatten(2).transpose(1, 2)
            return nn.functional.scaled_dot_product_attention(t, t, t)

    shape, tokens, width = (1, 8, 4, 4), 16, 8
    meta = cnnprofile.profile(Attention(), shape)
    fv = fvcore_engine.ENGINE.count(Attention(), shape, dtype=torch.float32, name="Attention")
    assert meta.totals.macs == tokens * tokens * (width + width) and fv.totals.macs == 0
    assert [u.op for u in fv.uncounted_ops] == ["aten.scaled_dot_product_attention"]


def test_batch_scales_linearly_and_matches_the_meta_engine():
    fv = cnnprofile.profile(f"{TINY}:build", batch=4, engine="fvcore", dtype="float16")
    meta = cnnprofile.profile(f"{TINY}:build", batch=4, dtype="float16")
    one = cnnprofile.profile(f"{TINY}:build", engine="fvcore")
    assert fv.input_shape == (4, 3, 32, 32) and fv.totals.macs == meta.totals.macs == 4 * one.totals.macs
    assert fv.totals.activation_bytes == 2 * fv.totals.activation_elems == 8 * one.totals.activation_elems
    assert by_name(fv, "macs") == by_name(meta, "macs")
    assert all(type(d) is int for r in fv.layers for d in r.output_shape)  # plain records, JSON-ready
    assert [r.output_shape for r in fv.layers if r.name == "fc"] == [(4, 10)]


def test_fvcore_warnings_and_logs_are_not_shown():
    code = ("import sys; from cnnprofile.cli import main; "
            f"sys.argv=['cnnprofile','table',{TINY + ':build'!r},'--engine','fvcore']; main()")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and proc.stderr == ""
    assert "engine fvcore" in proc.stdout and "Uncounted ops" in proc.stdout and "aten.add" in proc.stdout
