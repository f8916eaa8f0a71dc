"""The record every origin resolves to, and the two ways of building a model without allocating its weights."""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Callable, Literal, Mapping, Optional

import torch
from torch import nn

from ..errors import CnnprofileError, first_line
from ..inputs import Inputs

Origin = Literal["zoo", "torchvision", "timm", "keras", "onnx", "file", "module"]
Task = Literal["classification", "segmentation", "detection", "video", "optical_flow", "features", "other"]
# "meta": the constructor runs under torch.device("meta"). "registration": it runs on the CPU (it computes
# with tensors, e.g. RegNet's widths or timm's drop-path rates via .tolist()) and every parameter and buffer
# moves to the meta device as it is registered, so at most one layer's weights ever exist.
BuildPath = Literal["meta", "registration"]


@dataclass(frozen=True)
class PublishedFigures:
    """Figures the model's publisher states; None where it states none."""

    num_params: Optional[int] = None
    gmacs: Optional[float] = None  # torchvision's ``_ops`` ("GFLOPS" there counts multiply-adds)
    top1: Optional[float] = None
    top5: Optional[float] = None
    source: str = ""


@dataclass(frozen=True)
class ModelSource:
    name: str
    origin: Origin
    builder: Callable[..., nn.Module] = field(compare=False)
    inputs: Optional[Inputs]  # the native inputs at batch 1; None when unknown (a file declaring nothing)
    kwargs: Mapping = field(default_factory=dict, compare=False)  # the user's builder arguments
    fixed_kwargs: Mapping = field(default_factory=dict, compare=False)  # ours (weights=None, ...)
    task: Task = "classification"
    family: str = ""
    weights: Optional[str] = None  # the weights enum whose metadata is used, e.g. "ResNet50_Weights.IMAGENET1K_V2"
    published: PublishedFigures = PublishedFigures()
    num_classes: Optional[int] = None
    build_path: BuildPath = "meta"
    real_reason: Optional[str] = None  # why this model must run for real (then engine "real" is its default)
    spec: str = ""  # what resolves to this source again
    deployed: bool = False  # built in its deployed form (``sources.deploy``: re-parameterised, norms folded)
    # Its constructor is ours and initialises only through torch.nn.init and the layers' own reset_parameters
    # (the zoo; tests/test_zoo_meta_build.py checks it): on meta it is built with those calls skipped and no
    # dispatch mode (``dispatch.skipping_initialisers``), in half the time.
    plain_init: bool = False

    @property
    def input_size(self) -> Optional[tuple]:
        """The main input's per-sample shape (C, H, W for images), or None."""
        main = self.inputs.main if self.inputs is not None else None
        return tuple(main.shape[1:]) if main is not None else None

    def build(self, device=None) -> nn.Module:
        """Build the model on ``device`` (default: the current default device, e.g. inside ``with torch.device``).

        On the meta device the path chosen when the source was resolved is taken; nothing is tried twice.
        """
        device = torch.device(device) if device is not None else torch.get_default_device()
        args = {**self.fixed_kwargs, **self.kwargs}
        try:
            if device.type == "meta":
                from ..dispatch import building_on_meta, skipping_initialisers  # no work on tensors with no values

                place = parameters_on_meta() if self.build_path == "registration" else torch.device(device)
                with place, skipping_initialisers() if self.plain_init else building_on_meta():
                    obj = self.builder(**args)
            else:
                with torch.device(device):
                    obj = self.builder(**args)
        except CnnprofileError:
            raise
        except Exception as e:  # the builder's code: any exception is for the user to read, in one line
            raise CnnprofileError(f"building {self.spec or self.name} failed: {first_line(e, with_type=True)}") from e
        if not isinstance(obj, nn.Module):
            raise CnnprofileError(f"{self.spec or self.name} returned {type(obj).__name__}, not a torch.nn.Module")
        return obj


@contextmanager
def parameters_on_meta():
    """Build on the CPU but move each parameter and buffer to the meta device as it is registered."""
    from torch.nn.modules.module import (register_module_buffer_registration_hook,
                                         register_module_parameter_registration_hook)

    def parameter(module, name, param):
        return None if param is None else nn.Parameter(param.to("meta"), requires_grad=param.requires_grad)

    def buffer(module, name, tensor):
        return None if tensor is None else tensor.to("meta")

    handles = [register_module_parameter_registration_hook(parameter), register_module_buffer_registration_hook(buffer)]
    try:
        with torch.device("cpu"), _MetaWins():
            yield
    finally:
        for handle in handles:
            handle.remove()


class _MetaWins(torch.overrides.TorchFunctionMode):
    """While building on the registration path, an op given both meta tensors (the registered weights) and CPU
    tensors runs on the meta device. A constructor that probes its own submodule with a CPU input made without a
    device (timm's hybrid patch embedding runs its backbone on ``torch.zeros(1, C, H, W)`` to read the feature
    map's size) would otherwise mix devices; on the meta device it gets the shapes it is after."""

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        # Every op of a constructor comes through here: the arguments are scanned one level deep (tensors, and
        # lists or tuples of them: all an op takes), not through a pytree walk.
        meta = other = False
        for value in (*args, *kwargs.values()):
            for t in (value if isinstance(value, (list, tuple)) else (value,)):
                if isinstance(t, torch.Tensor):
                    if t.is_meta:
                        meta = True
                    else:
                        other = True
        if meta and other:
            args, kwargs = torch.utils._pytree.tree_map_only(
                torch.Tensor, lambda t: t if t.device.type == "meta" else t.to("meta"), (args, kwargs))
        return func(*args, **kwargs)
