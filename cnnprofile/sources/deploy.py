"""The deployed form of a network (``--reparam``, ``profile(..., reparam=True)``): what runs at inference once
the structure that only training needs is folded away. Two steps, in this order:

1. Re-parameterisation by the modules that know how: timm's protocol, where a module's ``fuse()`` returns its
   replacement and ``reparameterize()`` or ``switch_to_deploy()`` converts it in place (RepVGG's three branches
   become one 3x3 convolution; MobileOne's, FastViT's, RepGhost's, RepViT's, EfficientViT's and LeViT's
   branches and conv + norm pairs likewise). timm's own ``reparameterize_model`` walks the network where timm is
   installed; without timm the same protocol is walked here.
2. Batch-norm folding, for any network: a BatchNorm in eval mode that is the only reader of a convolution's
   output is an affine map per channel, ``(conv(x) + b - mean) * g / sqrt(var + eps) + beta``, so the
   convolution with weight ``W * g / sqrt(var + eps)`` and bias ``(b - mean) * g / sqrt(var + eps) + beta``
   computes the same numbers. The norm's parameters and statistics disappear, the convolution gains a bias of
   out_channels values if it had none, its MACs stay as they were and the normalisation's FLOPs vanish.

Which convolution feeds which norm is read from one forward pass at the native input, not guessed from module
order: a torch function mode sees every call, so a pair is folded only when the convolution module returned
exactly its own ``F.conv*`` call on its own weight and bias (a weight-standardising convolution, whose forward
rescales its weight, is left alone), the norm's ``F.batch_norm`` read that tensor with its own statistics in
eval mode, nothing else read it (a value read elsewhere, a residual branch, would change), and each module ran
once. A torch norm (``nn.BatchNorm1d/2d/3d``) becomes ``nn.Identity``, timm's ``BatchNormAct2d`` its dropout and
activation; any other subclass, whose forward may do more, is left as it is.

Both steps run on meta tensors too (the arithmetic is shape-only there), so a model built on the meta device is
deployed on the meta device. A module that is given is never changed: ``deployed`` works on a copy, and a
source's builder deploys the network it has just built.
"""
from __future__ import annotations

import copy
from collections import Counter
from contextlib import nullcontext
from dataclasses import replace
from typing import Optional

import torch
import torch.nn.functional as F
from torch import nn
from torch.overrides import TorchFunctionMode
from torch.utils._pytree import tree_leaves

from ..errors import InputError, first_line
from ..inputs import Inputs

_CONV_FUNCTIONS = {F.conv1d: nn.Conv1d, F.conv2d: nn.Conv2d, F.conv3d: nn.Conv3d}
# Calls that read a tensor's metadata, never its values: they do not stop a fold.
_SHAPE_ONLY_METHODS = {"size", "dim", "ndimension", "numel", "nelement", "is_contiguous", "is_floating_point",
                       "is_complex", "stride", "element_size", "__len__", "get_device"}
_SHAPE_ONLY_PROPERTIES = {"shape", "dtype", "device", "ndim", "requires_grad", "is_cuda", "is_meta", "layout",
                          "is_sparse", "is_quantized", "is_nested", "names", "grad_fn", "is_leaf"}


def deploy(module: nn.Module, inputs: Inputs, name: str = "") -> nn.Module:
    """``module`` in its deployed form, converted in place (eval mode, re-parameterised, batch norms folded)."""
    if not isinstance(module, nn.Module):  # a Keras model has no torch modules to fold
        return module
    module.eval()
    reparameterize(module)
    fold_batch_norms(module, inputs, name or type(module).__name__)
    return module


def reparameterize(module: nn.Module) -> nn.Module:
    """timm's ``fuse`` / ``reparameterize`` / ``switch_to_deploy`` protocol, in place, on the module's device."""
    device = _device(module)
    # The new convolutions are made without a device; on the model's device their weights can take the fused
    # values (a meta tensor cannot be assigned to a CPU parameter's data).
    with torch.device(device) if device is not None else nullcontext():
        try:
            from timm.utils.model import reparameterize_model
        except ImportError:
            _walk(module)
        else:
            reparameterize_model(module, inplace=True)
    return module


def _walk(module: nn.Module) -> None:
    for child_name, child in module.named_children():
        if hasattr(child, "fuse"):
            setattr(module, child_name, child.fuse())
        elif hasattr(child, "reparameterize"):
            child.reparameterize()
        elif hasattr(child, "switch_to_deploy"):
            child.switch_to_deploy()
        _walk(getattr(module, child_name))


def fold_batch_norms(module: nn.Module, inputs: Inputs, name: str = "") -> int:
    """Fold every batch norm that reads only a convolution's output into it, in place; the number folded."""
    pairs = conv_norm_pairs(module, inputs, name)
    for conv, norm, after in pairs:
        _fold(conv, norm)
        _replace(module, norm, after)
    return len(pairs)


def conv_norm_pairs(module: nn.Module, inputs: Inputs, name: str = "") -> list:
    """(conv, norm, replacement) for each foldable pair, read from one forward pass at ``inputs``."""
    device = _device(module)
    if device is None:
        return []
    param = next((p for p in module.parameters() if p.dtype.is_floating_point), None)
    dtype = param.dtype if param is not None else torch.float32
    watch = _Watch()
    handles = []
    for m in module.modules():
        if isinstance(m, tuple(_CONV_FUNCTIONS.values())):
            handles.append(m.register_forward_hook(watch.conv_done))
        elif isinstance(m, nn.modules.batchnorm._BatchNorm):
            handles.append(m.register_forward_hook(watch.norm_done))
    args, kwargs = inputs.make(device, dtype)
    try:
        with torch.no_grad(), watch:
            out = module(*args, **kwargs)
    except Exception as e:
        raise InputError(f"--reparam: {name} does not run at {inputs.text()}, so the convolutions its batch norms "
                         f"read cannot be found: {first_line(e, with_type=True)}") from e
    finally:
        for h in handles:
            h.remove()
    returned = {id(t) for t in tree_leaves(out) if isinstance(t, torch.Tensor)}
    return [(conv, norm, after) for conv, norm, after, tensor in watch.pairs
            if watch.uses[id(tensor)] == 1 and id(tensor) not in returned
            and watch.calls[conv] == 1 and watch.calls[norm] == 1]


class _Watch(TorchFunctionMode):
    """Notes each convolution's and batch norm's call and every value read of a convolution's output."""

    def __init__(self):
        super().__init__()
        self.conv_calls: dict = {}  # id(output) -> (weight, bias, output) of an F.conv* call
        self.norm_calls: dict = {}  # id(input) -> (running_mean, running_var, weight, bias, training, output)
        self.outputs: dict = {}  # id -> (conv, tensor): convolution outputs, kept alive so ids stay unique
        self.uses: Counter = Counter()
        self.calls: Counter = Counter()
        self.pairs: list = []  # (conv, norm, replacement, tensor)

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if not _shape_only(func):
            for t in tree_leaves((args, kwargs)):
                if isinstance(t, torch.Tensor) and id(t) in self.outputs:
                    self.uses[id(t)] += 1
        out = func(*args, **kwargs)
        if func in _CONV_FUNCTIONS and isinstance(out, torch.Tensor):
            self.conv_calls[id(out)] = (_arg(args, kwargs, 1, "weight"), _arg(args, kwargs, 2, "bias"), out)
        elif func is F.batch_norm and isinstance(out, torch.Tensor):
            x = _arg(args, kwargs, 0, "input")
            self.norm_calls[id(x)] = (_arg(args, kwargs, 1, "running_mean"), _arg(args, kwargs, 2, "running_var"),
                                      _arg(args, kwargs, 3, "weight"), _arg(args, kwargs, 4, "bias"),
                                      _arg(args, kwargs, 5, "training", False), out)
        return out

    def conv_done(self, conv, inputs, out):
        self.calls[conv] += 1
        call = self.conv_calls.pop(id(out), None)
        if call is not None and call[0] is conv.weight and call[1] is conv.bias and call[2] is out:
            self.outputs[id(out)] = (conv, out)

    def norm_done(self, norm, inputs, out):
        self.calls[norm] += 1
        x = inputs[0] if inputs else None
        made = self.outputs.get(id(x))
        call = self.norm_calls.pop(id(x), None)
        if made is None or call is None or made[1] is not x:
            return
        mean, var, weight, bias, training, result = call
        conv = made[0]
        if (training or mean is None or mean is not norm.running_mean or var is not norm.running_var
                or weight is not norm.weight or bias is not norm.bias or norm.num_features != conv.out_channels):
            return
        after = _after(norm, result, out)
        if after is not None:
            self.pairs.append((conv, norm, after, x))


def _after(norm: nn.Module, result: torch.Tensor, out) -> Optional[nn.Module]:
    """What the norm becomes once folded: nothing, or the activation timm's BatchNormAct2d applies after it."""
    timm_norm = next((c for c in type(norm).__mro__ if c.__name__ == "BatchNormAct2d"), None)
    if timm_norm is not None and type(norm).forward is timm_norm.forward:
        # Its forward applies drop then act after the batch norm (an in-place act returns the very tensor the
        # norm made, so the output's identity cannot tell).
        after = [m for m in (getattr(norm, "drop", None), getattr(norm, "act", None)) if isinstance(m, nn.Module)]
        return nn.Sequential(*after) if after else nn.Identity()
    if type(norm).forward is nn.modules.batchnorm._BatchNorm.forward and out is result:
        return nn.Identity()
    return None


def _arg(args: tuple, kwargs: dict, index: int, name: str, default=None):
    return args[index] if len(args) > index else kwargs.get(name, default)


def _shape_only(func) -> bool:
    name = getattr(func, "__name__", "")
    if name == "__get__":
        return getattr(getattr(func, "__self__", None), "__name__", "") in _SHAPE_ONLY_PROPERTIES
    return name in _SHAPE_ONLY_METHODS


def _fold(conv: nn.Module, norm: nn.Module) -> None:
    with torch.no_grad():
        mean, var = norm.running_mean.float(), norm.running_var.float()
        scale = torch.rsqrt(var + norm.eps)
        if norm.weight is not None:
            scale = scale * norm.weight.float()
        bias = conv.bias.float() if conv.bias is not None else torch.zeros_like(mean)
        bias = (bias - mean) * scale
        if norm.bias is not None:
            bias = bias + norm.bias.float()
        weight = conv.weight.float() * scale.reshape(-1, *[1] * (conv.weight.dim() - 1))
    dtype, grad = conv.weight.dtype, conv.weight.requires_grad
    conv.weight = nn.Parameter(weight.to(dtype), requires_grad=grad)
    conv.bias = nn.Parameter(bias.to(dtype), requires_grad=grad)


def _replace(root: nn.Module, old: nn.Module, new: nn.Module) -> None:
    """Put ``new`` wherever ``old`` is a child (a module may be registered under several names)."""
    for parent in root.modules():
        for key, child in list(parent._modules.items()):
            if child is old:
                parent._modules[key] = new


def _device(module: nn.Module) -> Optional[torch.device]:
    tensor = next(module.parameters(), None)
    tensor = tensor if tensor is not None else next(module.buffers(), None)
    return tensor.device if tensor is not None else None


def deployed_copy(module: nn.Module, inputs: Inputs, name: str = "", device: Optional[str] = None) -> nn.Module:
    """A deployed copy of a user's module, which stays exactly as it was. On the meta device (``device="meta"``)
    the copy's parameters and buffers are meta tensors, so no weight is duplicated."""
    memo: dict = {}
    if device is not None and torch.device(device).type == "meta":
        for p in module.parameters():
            memo[id(p)] = nn.Parameter(p.detach().to("meta"), requires_grad=p.requires_grad)
        for b in module.buffers():
            memo[id(b)] = b.detach().to("meta")
    try:
        copied = copy.deepcopy(module, memo)
    except Exception as e:
        raise InputError(f"--reparam works on a copy of {name or type(module).__name__}, which cannot be copied "
                         f"({first_line(e, with_type=True)}); the module is left as it is") from e
    return deploy(copied, inputs, name)


def deployed_source(source):
    """``source`` (a ``sources.ModelSource``) whose builder returns the deployed network."""
    if source.deployed:
        return source
    if source.origin == "keras":  # its layers are Keras's, not torch modules this folds
        raise InputError(f"--reparam: {source.spec or source.name} is a Keras model; only torch networks are "
                         "re-parameterised and folded")
    if source.inputs is None:
        raise InputError(f"--reparam needs the native input size of {source.spec or source.name} to find which "
                         "convolution each batch norm reads: define input_size = (C, H, W) in its module")
    inputs, builder, name = source.inputs, source.builder, source.name

    def build(**kwargs) -> nn.Module:
        return deploy(builder(**kwargs), inputs, name)

    return replace(source, name=f"{name} (deployed)", builder=build, deployed=True, plain_init=False)


deployed_source.order = -1  # before the fully convolutional conversion, which traces what it is given


def deployed_models():
    """A context in which every model resolved from a spec is built in its deployed form (``--reparam``)."""
    from . import transformed_sources

    return transformed_sources(deployed_source)


def deployed(model, input_size=None, *, kwargs: Optional[dict] = None) -> nn.Module:
    """The deployed form of ``model`` (a spec, a ``ModelSource`` or an ``nn.Module``, which is copied and never
    changed). A spec is built on the current default device with random weights; a module needs ``input_size``,
    the input its forward pass is run at to pair convolutions with norms."""
    from . import ModelSource, resolve_model
    from ..inputs import resolve_inputs

    if isinstance(model, str):
        model = resolve_model(model, kwargs)
    if isinstance(model, ModelSource):
        source = model if input_size is None else replace(model, inputs=resolve_inputs(model.inputs, input_size))
        return deployed_source(source).build()
    if not isinstance(model, nn.Module):
        raise InputError(f"expected a model name or an nn.Module, got {type(model).__name__}")
    if input_size is None:
        raise InputError("input_size is needed to deploy an nn.Module (its forward pass pairs convolutions "
                         "with norms)")
    return deployed_copy(model, resolve_inputs(None, input_size), type(model).__name__)


def deployed_model(model, inputs=None, batch: Optional[int] = None, kwargs: Optional[dict] = None,
                   device: str = "meta"):
    """``model`` (what ``sources.module_and_inputs`` takes) in its deployed form: a source that builds it so, or
    a deployed copy of a module on ``device`` (the meta device copies no weight)."""
    from . import ModelSource, resolve_model, unwrap
    from ..inputs import resolve_inputs

    if isinstance(model, str):
        model = resolve_model(model, kwargs)
    if isinstance(model, ModelSource):
        if model.inputs is None and inputs is not None:  # a file declaring no input: the one given is native
            model = replace(model, inputs=resolve_inputs(None, inputs, batch))
        return deployed_source(model)
    if isinstance(model, nn.Module) and inputs is not None:
        module = unwrap(model)
        return deployed_copy(module, resolve_inputs(None, inputs, batch), type(module).__name__, device)
    return model  # module_and_inputs says what is missing
