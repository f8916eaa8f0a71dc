"""The guard: after a profile returns and after it raises, the user's module is exactly as found: parameters,
buffers, plain tensor attributes (in lists, tuples and dicts too), training flags, requires_grad, devices,
dtypes and hooks. Checked on a fingerprint of every submodule's state, on Faster R-CNN's own failure and retry,
on every torchvision detection, segmentation and video model, and on the zoo."""
import pytest
import torch
import torchvision
from torch import nn

import cnnprofile
from cnnprofile.errors import CnnprofileError
from cnnprofile.models import list_models


def _tensor_facts(value):
    """Identity, device, dtype and shape of every tensor in ``value`` (containers walked), in order."""
    if isinstance(value, torch.Tensor):
        return [(id(value), value.device, value.dtype, tuple(value.shape), value.requires_grad)]
    if isinstance(value, (list, tuple)):
        return [f for v in value for f in _tensor_facts(v)]
    if isinstance(value, dict):
        return [f for k in value for f in _tensor_facts(value[k])]
    return []


def fingerprint(model: nn.Module) -> list:
    out = []
    for name, m in model.named_modules(remove_duplicate=False):
        plain = {k: (id(v), _tensor_facts(v)) for k, v in vars(m).items()
                 if not k.startswith("_") or k in ("_parameters", "_buffers", "_modules")}
        out.append((name, type(m), m.training, plain,
                    [(k, id(p), p.data.data_ptr() if p.device.type != "meta" else None, p.device, p.dtype,
                      p.requires_grad, id(p.grad)) for k, p in m._parameters.items() if p is not None],
                    [(k, id(b), b.device, b.dtype) for k, b in m._buffers.items() if b is not None],
                    [(d, tuple(getattr(m, d))) for d in ("_forward_hooks", "_forward_pre_hooks", "_backward_hooks")]))
    return out


class Boom(RuntimeError):
    pass


def _raiser(at: int):
    """A pre-hook for every leaf that raises at the ``at``-th leaf call: a failure deep in the forward pass."""
    seen = []

    def hook(*args):
        seen.append(1)
        if len(seen) == at:
            raise Boom("forced failure")
    return hook


def profile_and_fail(model, shape, engine=None):
    """Profile ``model`` (a success or its own failure), then force a failure in its last leaf; the fingerprint
    must not move either time."""
    before = fingerprint(model)
    try:
        cnnprofile.profile(model, shape, engine=engine)
    except CnnprofileError:
        pass
    assert fingerprint(model) == before
    leaves = [m for m in model.modules() if not list(m.children())]
    hook = _raiser(at=min(5, len(leaves)))
    handles = [m.register_forward_pre_hook(hook) for m in leaves]
    before = fingerprint(model)
    with pytest.raises(CnnprofileError, match="forced failure"):
        cnnprofile.profile(model, shape, engine=engine)
    assert fingerprint(model) == before
    for h in handles:
        h.remove()


def test_plain_attributes_rebound_or_mutated_by_forward_are_restored():
    class Caching(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(3, 4, 3)
            self.cache = [torch.zeros(2)]
            self.table = {"a": torch.ones(1)}
            self.last = torch.zeros(1)

        def forward(self, x):
            self.cache = [c.to(x.device) for c in self.cache]  # torchvision's anchor generator does this
            self.table["a"] = self.table["a"].to(x.device)
            self.last = x.sum()
            self.added = 1
            return self.conv(x)

    model = Caching()
    before = fingerprint(model)
    cnnprofile.profile(model, (1, 3, 8, 8))
    assert fingerprint(model) == before and not hasattr(model, "added")
    assert model.cache[0].device.type == "cpu" and model.table["a"].device.type == "cpu"
    profile_and_fail(model, (1, 3, 8, 8))


def test_faster_rcnn_meta_failure_then_the_real_retry_on_the_same_object():
    # The sequence; min_size/max_size keep the real pass on the CPU small (its default resizes to 800).
    m = torchvision.models.detection.fasterrcnn_resnet50_fpn(weights=None, weights_backbone=None, min_size=112,
                                                             max_size=112)
    before = fingerprint(m)
    with pytest.raises(CnnprofileError, match="engine 'real'"):
        cnnprofile.profile(m, (1, 3, 112, 112))
    assert fingerprint(m) == before
    p = cnnprofile.profile(m, (1, 3, 112, 112), engine="real")  # the retry the message recommends
    assert p.totals.macs > 0 and fingerprint(m) == before
    m.eval()
    with torch.no_grad():
        (out,) = m([torch.rand(3, 112, 112)])  # the user's own forward still works
    assert set(out) == {"boxes", "labels", "scores"}


def _torchvision(module):
    return sorted(torchvision.models.list_models(module=module))


@pytest.mark.parametrize("name", _torchvision(torchvision.models.detection))
def test_every_detection_model_is_left_as_found(name):
    with torch.device("meta"):
        model = torchvision.models.get_model(name, weights=None, weights_backbone=None, num_classes=3)
    profile_and_fail(model, (1, 3, 64, 64))  # the meta engine's own failure (data-dependent), then a forced one


@pytest.mark.parametrize("name", _torchvision(torchvision.models.segmentation))
def test_every_segmentation_model_is_left_as_found(name):
    with torch.device("meta"):
        model = torchvision.models.get_model(name, weights=None, weights_backbone=None, num_classes=3)
    profile_and_fail(model, (1, 3, 64, 64))


@pytest.mark.parametrize("name", _torchvision(torchvision.models.video))
def test_every_video_model_is_left_as_found(name):
    with torch.device("meta"):
        model = torchvision.models.get_model(name, weights=None, num_classes=3)
    shape = (1, 3, 16, 224, 224) if name.startswith(("mvit", "s3d")) else (1, 3, 8, 64, 64)
    profile_and_fail(model, shape)


@pytest.mark.parametrize("name", [m.name for m in list_models()])
def test_every_zoo_model_is_left_as_found(name):
    spec = next(m for m in list_models() if m.name == name)
    with torch.device("meta"):
        model = spec.builder()
    profile_and_fail(model, (1, *spec.input_size))
