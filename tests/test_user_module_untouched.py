"""No engine changes the user's module: dtype, device, training flags, requires_grad, hooks, parameter identity
and values are as they were after ``profile()`` returns and after it raises."""
import pytest
import torch
from torch import nn

import cnnprofile
from cnnprofile.engines import ENGINES


def user_net(dtype, device):
    net = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 4 * 4, 5))
    net = net.to(device=device, dtype=dtype).train()
    net[1].eval()  # a submodule whose own flag differs from its parent's
    net[0].bias.requires_grad_(False)
    net[0].register_forward_hook(lambda m, i, o: None)
    net[4].register_forward_pre_hook(lambda m, i: None)
    return net


def snapshot(net):
    return dict(
        training=[m.training for m in net.modules()],
        tensors=[(name, id(t), t.dtype, t.device, t.requires_grad, t.grad)
                 for name, t in [*net.named_parameters(), *net.named_buffers()]],
        values={k: v.clone() for k, v in net.state_dict().items()},
        hooks=[(len(m._forward_hooks), len(m._forward_pre_hooks), len(m._backward_hooks)) for m in net.modules()],
        classes=[type(m) for m in net.modules()],
    )


def assert_unchanged(net, before):
    after = snapshot(net)
    for key in ("training", "tensors", "hooks", "classes"):
        assert after[key] == before[key], key
    for k, v in after["values"].items():
        assert v.dtype == before["values"][k].dtype and v.device == before["values"][k].device, k
        if v.device.type != "meta":
            assert torch.equal(v, before["values"][k]), k


CASES = [(torch.float32, "cpu"), (torch.bfloat16, "cpu"), (torch.float16, "cpu"), (torch.float32, "meta")]


@pytest.mark.parametrize("engine", list(ENGINES))
@pytest.mark.parametrize("dtype, device", CASES, ids=[f"{d}-{v}".replace("torch.", "") for d, v in CASES])
def test_profile_leaves_the_module_as_it_was(engine, dtype, device):
    net = user_net(dtype, device)
    before = snapshot(net)
    p = cnnprofile.profile(net, (1, 3, 6, 6), engine=engine)
    assert p.totals.macs == 4 * 4 * 4 * 27 + 64 * 5  # it did count
    assert_unchanged(net, before)


@pytest.mark.parametrize("engine", list(ENGINES))
@pytest.mark.parametrize("dtype, device", CASES, ids=[f"{d}-{v}".replace("torch.", "") for d, v in CASES])
def test_a_failed_profile_leaves_the_module_as_it_was(engine, dtype, device):
    net = user_net(dtype, device)
    before = snapshot(net)
    with pytest.raises(cnnprofile.CnnprofileError, match="cannot run on input 1x3x2x2"):
        cnnprofile.profile(net, (1, 3, 2, 2), engine=engine)  # smaller than the 3x3 kernel
    assert_unchanged(net, before)
