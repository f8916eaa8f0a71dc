"""timm models across families against the parameter counts timm publishes.

The reference is timm's own results table, ``results/results-imagenet.csv`` of huggingface/pytorch-image-models
(column ``param_count``, millions with two decimals), so each count must match to within 0.005M. The models are
the smallest of their families, so the sweep stays fast; each is built by timm with ``pretrained=False``.
"""
import pytest

import cnnprofile

pytestmark = pytest.mark.slow  # an oracle over many models: `-m "not slow"` skips it while developing

PUBLISHED_M = {
    "resnet18": 11.69, "resnet10t": 5.44, "mobilenetv2_050": 1.97, "mobilenetv3_small_100": 2.54,
    "efficientnet_b0": 5.29, "tf_efficientnet_lite0": 4.65, "mnasnet_small": 2.03, "lcnet_050": 1.88,
    "tinynet_e": 2.04, "regnetx_002": 2.68, "regnety_002": 3.16, "dla46_c": 1.30, "mobilevit_xxs": 1.27,
    "mobilevitv2_050": 1.37, "edgenext_xx_small": 1.33, "vit_tiny_patch16_224": 5.72,
    "deit_tiny_patch16_224": 5.72, "pit_ti_224": 4.85, "xcit_nano_12_p16_224": 3.05, "pvt_v2_b0": 3.67,
    "ghostnet_100": 5.18, "convnext_atto": 3.70, "densenet121": 7.98, "semnasnet_075": 2.91,
}


@pytest.mark.parametrize("name", sorted(PUBLISHED_M))
def test_timm_parameter_counts_match_timms_results_table(name):
    p = cnnprofile.profile(f"timm:{name}")
    assert p.engine == "meta"
    assert abs((p.totals.params + p.unused_params) / 1e6 - PUBLISHED_M[name]) <= 0.005, (
        f"{p.totals.params} + {p.unused_params} unused vs {PUBLISHED_M[name]}M")


def test_the_sample_spans_families():
    assert len(PUBLISHED_M) >= 20 and len({n.split("_")[0].rstrip("0123456789") for n in PUBLISHED_M}) >= 15
