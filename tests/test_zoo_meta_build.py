"""The zoo's quick build on the meta device (``ModelSource.plain_init``): torch.nn.init's calls skipped and no
dispatch mode, against the general path (``dispatch.building_on_meta``) that any constructor gets."""
import pytest
import torch
from torch import nn

from cnnprofile.dispatch import LightDispatchMode, building_on_meta, skipping_initialisers
from cnnprofile.models import list_models
from cnnprofile.sources import resolve_model
from cnnprofile.sources.deploy import deployed_source
from cnnprofile.sources.fcn import fully_convolutional_source

ZOO = [m.name for m in list_models()]
# What BatchNorm's reset_running_stats writes: C++ meta kernels, nothing an initialiser would be skipped for.
CHEAP_IN_PLACE = {"aten.zero_.default", "aten.fill_.Scalar"}


def _tree(model: nn.Module) -> list:
    return ([(n, type(m).__name__, m.training) for n, m in model.named_modules()]
            + [(n, tuple(p.shape), p.dtype, p.device.type, p.requires_grad, type(p).__name__)
               for n, p in model.named_parameters()]
            + [(n, tuple(b.shape), b.dtype, b.device.type) for n, b in model.named_buffers()])


class _InPlace(LightDispatchMode):
    """Records every op that writes into a meta tensor."""

    def __init__(self):
        super().__init__()
        self.seen = set()

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        schema = func._schema
        if args and isinstance(args[0], torch.Tensor) and args[0].device.type == "meta" and schema.arguments \
                and schema.arguments[0].alias_info is not None and schema.arguments[0].alias_info.is_write:
            self.seen.add(str(func))
        return func(*args, **(kwargs or {}))


@pytest.mark.parametrize("name", ZOO)
def test_zoo_builds_on_meta_the_same_modules_as_the_general_path(name):
    source = resolve_model(name)
    assert source.plain_init
    with torch.device("meta"), building_on_meta():
        general = source.builder()
    quick = source.build("meta")
    assert _tree(quick) == _tree(general)
    assert all(t.device.type == "meta" for t in [*quick.parameters(), *quick.buffers()])


@pytest.mark.parametrize("name", ZOO)
def test_zoo_constructors_initialise_only_through_nn_init(name):
    """What ``plain_init`` promises: with torch.nn.init's calls skipped, no initialiser is left to run one of
    torch's slow meta kernels (a model writing ``weight.data.normal_()`` itself fails here)."""
    mode = _InPlace()
    with torch.device("meta"), skipping_initialisers(), mode:
        resolve_model(name).builder()
    assert mode.seen <= CHEAP_IN_PLACE, mode.seen - CHEAP_IN_PLACE


def test_transformed_zoo_sources_take_the_general_path():
    """The conversions run code of their own after the constructor, so they are built as any other model."""
    source = resolve_model("vgg16")
    assert not fully_convolutional_source(source).plain_init
    assert not deployed_source(source).plain_init


def test_skipping_initialisers_leaves_real_tensors_alone_and_restores_nn_init():
    before = {name: getattr(nn.init, name) for name in ("kaiming_uniform_", "normal_", "zeros_")}
    with pytest.raises(ValueError):
        with skipping_initialisers():
            assert nn.init.normal_ is not before["normal_"]
            layer = nn.Linear(3, 2)  # on the CPU: its initialiser must really run
            assert layer.weight.abs().sum() > 0
            t = torch.zeros(4)
            assert nn.init.constant_(t, 2.5) is t and t.tolist() == [2.5] * 4
            meta = torch.empty(3, 3, device="meta")
            assert nn.init.kaiming_uniform_(meta) is meta
            raise ValueError("raised inside")
    assert {name: getattr(nn.init, name) for name in before} == before
