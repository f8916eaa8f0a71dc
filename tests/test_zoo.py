"""Every registered zoo model against its published figures; the registry drives the parametrization."""
import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

import cnnprofile
from cnnprofile.models import list_models
from cnnprofile.analyses.views import depth_view, lecture_view

SPECS = list_models()
NAMES = [s.name for s in SPECS]
LECTURE_ZOO = {"lenet5", "alexnet", "zfnet", "vgg11", "vgg11_lrn", "vgg13", "vgg16_c", "vgg16", "vgg19", "googlenet",
               "resnet18", "resnet34", "resnet50", "resnet101", "resnet152", "xception", "se_resnet50",
               "nin", "inception_v3", "inception_v4"}


@pytest.fixture(scope="module")
def profiles():
    return {}


def _profile(profiles, name):
    if name not in profiles:
        profiles[name] = cnnprofile.profile(name)
    return profiles[name]


def test_the_lecture_zoo_is_registered():
    assert LECTURE_ZOO <= set(NAMES)
    assert len([n for n in NAMES if n.startswith("se_")]) >= 2


@pytest.mark.parametrize("spec", SPECS, ids=NAMES)
def test_metadata(spec):
    assert spec.paper and spec.family and len(spec.input_size) == 3 and spec.num_classes > 0


@pytest.mark.parametrize("spec", SPECS, ids=NAMES)
def test_traces_at_native_size(spec, profiles):
    p = _profile(profiles, spec.name)
    assert p.input_shape == (1, *spec.input_size)
    # The main output (localization adds a box); a detector's is its grid.
    assert p.output_shapes[0][1] == (1, *(spec.output_size or (spec.num_classes,)))
    assert p.totals.macs > 0 and p.totals.params > 0
    assert not p.uncounted_ops, p.uncounted_ops


@pytest.mark.parametrize("spec", [s for s in SPECS if s.published.params], ids=lambda s: s.name)
def test_parameters_match_published(spec, profiles):
    pub = spec.published
    p = _profile(profiles, spec.name)
    got = p.totals.params + (p.unused_params if pub.params_include_unused else 0)
    if pub.params_include_unused:
        assert p.unused_params > 0, f"{spec.name}: the published count says it includes unused parameters"
    if pub.params_rel_tol == 0:
        assert got == pub.params, f"{spec.name}: {got:,} != {pub.params:,} ({pub.source})"
    else:
        assert got == pytest.approx(pub.params, rel=pub.params_rel_tol), pub.source


@pytest.mark.parametrize("spec", [s for s in SPECS if s.published.macs], ids=lambda s: s.name)
def test_macs_match_published(spec, profiles):
    pub = spec.published
    got = _profile(profiles, spec.name).totals.macs
    assert got == pytest.approx(pub.macs, rel=pub.macs_rel_tol), f"{spec.name}: {got:,} vs {pub.macs:,} ({pub.source})"


@pytest.mark.parametrize("spec", SPECS, ids=NAMES)
def test_totals_match_independent_counts(spec, profiles):
    """Totals against what torch itself says of the same network: its parameter tensors and the MACs of
    ``FlopCounterMode`` (which counts convolutions and matrix products, 2 FLOPs per multiply-add)."""
    p = _profile(profiles, spec.name)
    with torch.device("meta"):
        model = spec.build().eval()
    assert p.totals.params + p.unused_params == sum(t.numel() for t in model.parameters())
    counter = FlopCounterMode(display=False)
    with counter, torch.no_grad():
        model(torch.empty(1, *spec.input_size, device="meta"))
    assert p.totals.macs == counter.get_total_flops() // 2
    assert p.totals.activation_bytes == 4 * p.totals.activation_elems  # float32


@pytest.mark.parametrize("spec", SPECS, ids=NAMES)
def test_every_view_partitions_the_finest_rows(spec, profiles):
    p = _profile(profiles, spec.name)
    fields = ("params", "bias_params", "macs", "flops", "activation_elems", "activation_bytes")
    finest = {f: sum(getattr(r, f) for r in p.layers) for f in fields}
    for rows in (lecture_view(p), depth_view(p, 0), depth_view(p, 1), depth_view(p, 2)):
        assert {f: sum(getattr(r, f) for r in rows) for f in fields} == finest
        assert len(rows) <= len(p.layers)
    assert len(depth_view(p, 0)) == 2  # the input and the whole model


def test_batch_scales_activations_and_ops_not_parameters(profiles):
    one, many = _profile(profiles, "vgg16"), cnnprofile.profile("vgg16", batch=256)
    assert many.input_shape == (256, 3, 224, 224)
    assert many.totals.params == one.totals.params and many.totals.param_bytes == one.totals.param_bytes
    assert many.totals.macs == 256 * one.totals.macs
    assert many.totals.activation_elems == 256 * one.totals.activation_elems
