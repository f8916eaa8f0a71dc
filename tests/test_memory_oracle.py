"""Predicted peaks (``--device cpu``) against the CPU allocator's own accounting of the same real step.

Each case runs a torchvision model for real on the CPU under the profiler (``tests/memory_oracle.py``) and
predicts the same step on the meta device; they must agree within 0.5% in float32 (the kB-sized scratchpads
of oneDNN and the transformer's attention are what is left) and within 2.5% under bfloat16 autocast, whose
oneDNN convolutions' temporaries are not modelled. Models are built once per module.
"""
from functools import lru_cache

import pytest
import torch
import torchvision
from memory_oracle import measured_peak

from cnnprofile.analyses.memory import memory

pytestmark = pytest.mark.slow  # an oracle over many models: `-m "not slow"` skips it while developing

OPTIMIZERS = {"adamw": (torch.optim.AdamW, {}), "adam": (torch.optim.Adam, {}), "sgd": (torch.optim.SGD, {"lr": 0.01}),
              "sgd-momentum": (torch.optim.SGD, {"lr": 0.01, "momentum": 0.9})}


@lru_cache(maxsize=None)
def _model(name):
    torch.manual_seed(0)
    return getattr(torchvision.models, name)(weights=None)


# (id, torchvision model, batch, optimizer or None for inference, trainable prefix or None for all, amp)
CASES = [
    ("resnet18-inference", "resnet18", 8, None, None, None),
    ("vit_b_16-inference", "vit_b_16", 2, None, None, None),
    ("resnet50-adamw", "resnet50", 4, "adamw", None, None),
    ("mobilenet_v2-sgd-momentum", "mobilenet_v2", 4, "sgd-momentum", None, None),
    ("densenet121-adam", "densenet121", 2, "adam", None, None),
    ("vgg16-sgd", "vgg16", 2, "sgd", None, None),
    ("resnet50-head-only-adamw", "resnet50", 4, "adamw", "fc.", None),
    ("resnet18-amp-bf16-adamw", "resnet18", 2, "adamw", None, torch.bfloat16),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_predicted_peak_within_10_percent_of_the_cpu_allocator(case):
    _, name, batch, optimizer, head, amp = case
    model = _model(name)
    before = {n: p.requires_grad for n, p in model.named_parameters()}
    try:
        for n, p in model.named_parameters():
            p.requires_grad_(head is None or n.startswith(head))
        opt = None
        if optimizer is not None:
            cls, kwargs = OPTIMIZERS[optimizer]
            opt = cls([p for p in model.parameters() if p.requires_grad], foreach=False, **kwargs)
        x = torch.randn(batch, 3, 224, 224)
        measured = measured_peak(model, x, train=optimizer is not None, optimizer=opt, amp=amp)
        model.zero_grad(set_to_none=True)
        del opt
        report = memory(model, tuple(x.shape), train=optimizer is not None, optimizer=optimizer or "none",
                        device="cpu", amp={torch.bfloat16: "bf16"}.get(amp))
    finally:
        for n, p in model.named_parameters():
            p.requires_grad_(before[n])
    tolerance = 0.025 if amp is not None else 0.005
    assert report.peak_bytes == pytest.approx(measured, rel=tolerance), (report.peak_bytes, measured)
