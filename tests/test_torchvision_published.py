"""Every model of ``torchvision.models.list_models()`` against the figures torchvision publishes with its weights.

``num_params`` must equal our parameter count exactly and our MACs must be within 1% of ``_ops`` (GMACs, at the
input we use by default: the weights' transforms, 16 frames for video). Each exception is listed below with its
cause, and asserted to still deviate by exactly the amount its cause explains, so the list cannot go stale.

Detection models run for real on the CPU (data-dependent shapes); a real run at 800 x 800 takes 10-30 s on two
cores, so the sweep checks their parameters on the built model; ``tests/test_inputs_outputs.py`` profiles
``fasterrcnn_resnet50_fpn`` through the fallback (at a small size). Their ``_ops`` is not compared: the second
stage runs once per box kept after NMS, which with random weights is not the published run's count
(fasterrcnn_mobilenet_v3_large_320_fpn: 4x _ops, every one of its 150 proposals passes the 0.05 score threshold).
"""
import pytest
import torch

import cnnprofile
from cnnprofile.sources import resolve_model, torchvision_names

pytestmark = pytest.mark.slow  # an oracle over many models: `-m "not slow"` skips it while developing

NAMES = torchvision_names()
SOURCES = {n: resolve_model(f"torchvision:{n}") for n in NAMES}
META = [n for n in NAMES if SOURCES[n].task != "detection"]
DETECTION = [n for n in NAMES if SOURCES[n].task == "detection"]


def _params_of(source, predicate):
    with torch.device("meta"):
        model = source.build()
    return sum(p.numel() for name, m in model.named_modules() if predicate(name, m)
               for p in m.parameters(recurse=False))


_AUX = ("the auxiliary classifier (AuxLogits) is part of the published weights but runs only in training",
        lambda name, m: name == "AuxLogits" or name.startswith("AuxLogits."))
# Parameters that are published but that the eval forward pass never reads, so ``totals.params`` leaves them
# out and ``unused_params`` reports them (the sum always equals num_params). Parameters a parent passes to a
# function (Swin's qkv/proj weights, ViT's out_proj in F.multi_head_attention_forward) are read, so they count.
PARAM_EXCEPTIONS = {"inception_v3": _AUX, "quantized_inception_v3": _AUX}

# torchvision publishes _ops with three decimals (GMACs): for the smallest models the rounding alone
# exceeds 1%. Each entry must still miss 1% and must be explained by that rounding (|ours - _ops| <= 0.0005G).
ROUNDING = "_ops = 0.040 GMACs is rounded; we count 40.5M MACs (+1.2%)"
MAC_EXCEPTIONS = {"shufflenet_v2_x0_5": ROUNDING, "quantized_shufflenet_v2_x0_5": ROUNDING}
# torchvision states no input size for RAFT; at our default (two 3x368x768 frames, the Sintel crop of its
# training references) we count 3-10% more than _ops, so it was measured at a smaller, unstated size.
UNSTATED_SIZE = {"raft_small": (1.0, 1.15), "raft_large": (1.0, 1.15)}


@pytest.mark.parametrize("name", META)
def test_matches_published_params_and_macs(name):
    source = SOURCES[name]
    p = cnnprofile.profile(source)
    published_params, published_macs = source.published.num_params, source.published.gmacs * 1e9

    assert p.engine == "meta"
    assert p.totals.params + p.unused_params == published_params
    if name in PARAM_EXCEPTIONS:
        reason, predicate = PARAM_EXCEPTIONS[name]
        assert p.unused_params == _params_of(source, predicate) > 0, reason
    else:
        assert p.totals.params == published_params and p.unused_params == 0

    rel = abs(p.totals.macs - published_macs) / published_macs
    if name in MAC_EXCEPTIONS:
        assert rel > 0.01 and abs(p.totals.macs - published_macs) <= 0.0005e9, MAC_EXCEPTIONS[name]
    elif name in UNSTATED_SIZE:
        low, high = UNSTATED_SIZE[name]
        assert low < p.totals.macs / published_macs < high
    else:
        assert rel <= 0.01, f"{p.totals.macs / 1e9:.4f}G MACs vs published {source.published.gmacs}G"


@pytest.mark.parametrize("name", DETECTION)
def test_detection_models_have_the_published_parameters_and_run_for_real(name):
    source = SOURCES[name]
    assert source.real_reason and "data-dependent" in source.real_reason
    with torch.device("meta"):
        model = source.build()
    assert sum(p.numel() for p in model.parameters()) == source.published.num_params


def test_every_torchvision_model_is_checked_and_the_exceptions_exist():
    assert len(NAMES) >= 120 and {"detection", "segmentation", "video", "optical_flow"} <= {
        s.task for s in SOURCES.values()}
    assert set(PARAM_EXCEPTIONS) | set(MAC_EXCEPTIONS) | set(UNSTATED_SIZE) <= set(META)
