"""Every registered zoo model against its published figures; the registry drives the parametrization."""
import pytest

import cnnprofile
from cnnprofile.models import list_models
from cnnprofile.views import depth_view, lecture_view

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
    assert p.layers[-1].output_shape == (1, spec.num_classes)
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
def test_rows_add_up_to_totals_in_every_view(spec, profiles):
    p = _profile(profiles, spec.name)
    t = p.totals
    for rows in (p.layers, lecture_view(p), depth_view(p, 0), depth_view(p, 1), depth_view(p, 2)):
        assert sum(r.params for r in rows) == t.params
        assert sum(r.macs for r in rows) == t.macs
        assert sum(r.flops for r in rows) == t.flops
        assert sum(r.activation_elems for r in rows) == t.activation_elems
        assert sum(r.activation_bytes for r in rows) == t.activation_bytes


def test_batch_scales_activations_and_ops_not_parameters(profiles):
    one, many = _profile(profiles, "vgg16"), cnnprofile.profile("vgg16", batch=256)
    assert many.input_shape == (256, 3, 224, 224)
    assert many.totals.params == one.totals.params and many.totals.param_bytes == one.totals.param_bytes
    assert many.totals.macs == 256 * one.totals.macs
    assert many.totals.activation_elems == 256 * one.totals.activation_elems
