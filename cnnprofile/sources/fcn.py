"""Fully convolutional conversion (Long, Shelhamer and Darrell, CVPR 2015): dense layers become convolutions.

A dense layer over a C x H x W map flattened to a vector is a convolution of C x H x W filters with valid
padding: at the input size the network was built for, the map is exactly H x W and the convolution has one
output position, equal to the dense layer's output; on a larger input it slides, and the network gives a grid of
predictions in one pass (VGG-16 at 448x448: 8x8x1000, the lecture's "predictions for 8x8 regions"). The dense
layers after the first read a 1 x 1 position and become 1x1 convolutions. The weights are the dense layers'
own, reshaped (``W.reshape(out, C, H, W)``, which matches ``torch.flatten``'s C, H, W order), so the converted
network computes the same numbers at the native size. On a larger input, a grid cell is the network run on its
window exactly when the convolutions have no padding; with padding (VGG's 3x3 convolutions), a cell's
features near the window's edge see the image around the window where the window alone would see zeros, so the
cells are the windows' predictions with more context, not bit for bit the same numbers.

What is converted: the graph ``torch.fx`` traces from ``forward``; the flatten (``torch.flatten``,
``nn.Flatten``, ``x.view(n, -1)``, ``x.reshape``) that turns the last spatial map into a vector is removed, every
``nn.Linear`` after it becomes an ``nn.Conv2d`` under the same name, and what lies between them must act on each
value or channel vector alone (activations, dropout, a softmax over the classes). An adaptive pooling right
before the flatten (torchvision's VGG and AlexNet end their features with ``AdaptiveAvgPool2d((7, 7))`` and
``((6, 6))``) is the identity at the native size, but on a larger input it would shrink the map back to 7x7 and
give one prediction again: it is removed, so the converted network is the paper's network without it. A network
that pools globally before its dense layers (ResNet, GoogLeNet, Xception) already takes any input size and gives
one prediction; there is no grid to make, and the conversion refuses it, as it refuses anything else after the
flatten (a reshape of the output, a dense layer over a vector that was never a map), in one sentence.

The graph is traced in eval mode, the network that predicts: train-only branches (GoogLeNet's auxiliary
classifiers) are not part of the converted network. The model given is never changed: a module is deep-copied
before it is traced.
"""
from __future__ import annotations

import copy
from typing import Optional, Sequence

import torch
from torch import fx, nn

from ..errors import InputError, first_line

_POINTWISE_MODULES = (nn.ReLU, nn.ReLU6, nn.LeakyReLU, nn.ELU, nn.GELU, nn.SiLU, nn.Sigmoid, nn.Tanh, nn.Hardswish,
                      nn.Hardsigmoid, nn.Mish, nn.PReLU, nn.Dropout, nn.AlphaDropout, nn.Identity)
_POINTWISE_FUNCTIONS = {torch.relu, torch.sigmoid, torch.tanh, nn.functional.relu, nn.functional.leaky_relu,
                        nn.functional.gelu, nn.functional.silu, nn.functional.dropout, nn.functional.relu6,
                        nn.functional.elu, torch.nn.functional.hardswish}
_SOFTMAX_FUNCTIONS = (torch.softmax, nn.functional.softmax, torch.log_softmax, nn.functional.log_softmax)
_POINTWISE_METHODS = {"relu", "sigmoid", "tanh", "relu_", "contiguous"}
_FLATTEN_METHODS = {"flatten", "view", "reshape"}
_ADAPTIVE_POOLS = (nn.AdaptiveAvgPool2d, nn.AdaptiveMaxPool2d)


def fully_convolutional(model, input_size: Optional[Sequence[int]] = None, *, kwargs: Optional[dict] = None,
                        name: Optional[str] = None) -> nn.Module:
    """A fully convolutional copy of ``model`` (a zoo/torchvision/timm/file spec or an ``nn.Module``).

    ``input_size`` is the native input, (C, H, W) or (N, C, H, W), at which the dense layers read their map; a
    spec's own native size is the default (an ``nn.Module`` needs it). A spec is built on the current default
    device with freshly initialised weights. Raises ``InputError`` with one sentence when the network cannot
    be converted.
    """
    if isinstance(model, str):
        from . import resolve_model

        source = resolve_model(model, kwargs)
        if input_size is None and source.inputs is None:
            raise InputError(f"{model} does not declare its input size: pass the native input_size to convert it")
        shape = input_size or source.inputs.main.shape
        return _convert(source.build(), shape, name or source.name)
    if not isinstance(model, nn.Module):
        raise InputError(f"expected a model name or an nn.Module, got {type(model).__name__}")
    if input_size is None:
        raise InputError("input_size, the native (C, H, W), is needed to convert an nn.Module")
    return _convert(copy.deepcopy(model), input_size, name or type(model).__name__)


def fully_convolutional_source(source):
    """``source`` (a ``sources.ModelSource``) whose builder returns the fully convolutional network."""
    from dataclasses import replace

    if source.inputs is None:
        raise InputError(f"--fully-conv needs the native input size of {source.spec or source.name}: define "
                         "input_size = (C, H, W) in its module")
    shape, builder, name = source.inputs.main.shape, source.builder, source.name

    def build(**kwargs) -> nn.Module:
        return _convert(builder(**kwargs), shape, name)

    return replace(source, name=f"{name} (fully convolutional)", builder=build, plain_init=False)


def fully_convolutional_models():
    """A context in which every model resolved from a spec is built fully convolutional (``--fully-conv``)."""
    from . import transformed_sources

    return transformed_sources(fully_convolutional_source)


def _shape(node) -> Optional[tuple]:
    return node.meta.get("cnnprofile_shape") if isinstance(node, fx.Node) else None


def _describe(node: fx.Node) -> str:
    return str(node.target) if node.op == "call_module" else getattr(node.target, "__name__", str(node.target))


class _Shapes(fx.Interpreter):
    """Runs the graph once and notes every tensor's shape on its node."""

    def run_node(self, node):
        out = super().run_node(node)
        if isinstance(out, torch.Tensor):
            node.meta["cnnprofile_shape"] = tuple(out.shape)
        return out


def _trace(module: nn.Module, shape: Sequence[int], name: str) -> fx.GraphModule:
    # Traced in eval mode, the network that predicts: train-only branches (auxiliary heads) are left out.
    modes = {m: m.training for m in module.modules()}
    module.eval()
    try:
        graph_module = fx.symbolic_trace(module)
    except Exception as e:
        raise InputError(f"{name} cannot be converted: torch.fx cannot trace its forward ({first_line(e)})") from e
    param = next(module.parameters(), None)
    device = param.device if param is not None else torch.get_default_device()
    dtype = param.dtype if param is not None and param.dtype.is_floating_point else torch.float32
    shape = tuple(shape) if len(shape) == 4 else (1, *shape)
    try:
        with torch.no_grad():
            _Shapes(graph_module).run(torch.zeros(shape, device=device, dtype=dtype))
    except Exception as e:
        raise InputError(f"{name} does not run at its native input {'x'.join(map(str, shape))}: "
                         f"{first_line(e)}") from e
    for m, mode in modes.items():
        m.train(mode)
    graph_module.train(modes[module])
    return graph_module


class _Graph:
    """The traced graph with the modules its nodes call."""

    def __init__(self, graph_module: fx.GraphModule, name: str):
        self.gm, self.name = graph_module, name
        self.modules = dict(graph_module.named_modules())

    def module(self, node) -> Optional[nn.Module]:
        return self.modules.get(node.target) if isinstance(node, fx.Node) and node.op == "call_module" else None

    def is_linear(self, node) -> bool:
        return isinstance(self.module(node), nn.Linear)

    def is_pointwise(self, node: fx.Node) -> bool:
        module = self.module(node)
        if module is not None:
            return isinstance(module, _POINTWISE_MODULES) or (isinstance(module, (nn.Softmax, nn.LogSoftmax))
                                                              and module.dim in (1, -1))
        if node.op == "call_function":
            if node.target in _SOFTMAX_FUNCTIONS:
                dim = node.kwargs.get("dim", node.args[1] if len(node.args) > 1 else None)
                return dim in (1, -1)
            return node.target in _POINTWISE_FUNCTIONS
        return node.op == "call_method" and node.target in _POINTWISE_METHODS

    def is_flatten(self, node: fx.Node) -> bool:
        src, out = _shape(node.args[0]) if node.args else None, _shape(node)
        if src is None or out is None or len(src) != 4 or len(out) != 2 or out[1] != src[1] * src[2] * src[3]:
            return False
        return (isinstance(self.module(node), nn.Flatten)
                or (node.op == "call_function" and node.target in (torch.flatten, torch.reshape))
                or (node.op == "call_method" and node.target in _FLATTEN_METHODS))

    def back_to(self, node: fx.Node) -> fx.Node:
        """The first node before ``node`` (a dense layer's input) that is not pointwise."""
        while self.is_pointwise(node):
            node = node.args[0]
        return node

    def global_pool(self, node) -> Optional[str]:
        """The name of the pooling that made ``node``'s 1x1 map out of a larger one whatever its size."""
        if not isinstance(node, fx.Node) or not node.args:
            return None
        src, out = _shape(node.args[0]), _shape(node)
        if src is None or out is None or len(src) != 4 or out[-2:] != (1, 1) or src[-2:] == (1, 1):
            return None
        # A fixed-size pooling (GoogLeNet's 7x7 average) slides on a larger map and keeps the grid: not global.
        pool = isinstance(self.module(node), _ADAPTIVE_POOLS)
        pool = pool or (node.op == "call_function" and ("adaptive" in _describe(node) or node.target is torch.mean))
        pool = pool or (node.op == "call_method" and node.target in ("mean", "amax"))
        return _describe(node) if pool else None


def _convert(module: nn.Module, shape: Sequence[int], name: str) -> nn.Module:
    g = _Graph(_trace(module, shape, name), name)
    nodes = list(g.gm.graph.nodes)
    linears = [n for n in nodes if g.is_linear(n)]
    if not linears:
        raise InputError(f"{name} has no dense layer (nn.Linear) to convert: it is convolutional already")
    flatten = g.back_to(linears[0].args[0])
    if not g.is_flatten(flatten):
        raise InputError(f"{name} cannot be made fully convolutional: its first dense layer {linears[0].target} "
                         f"reads a {'x'.join(map(str, _shape(flatten) or ()))} tensor made by "
                         f"{_describe(flatten)}, not a flattened spatial map")
    spatial = g.back_to(flatten.args[0])  # through a dropout, say, to what made the map
    pooled = g.global_pool(spatial)
    if pooled:
        raise InputError(f"{name} pools its last feature map globally ({pooled}) before the dense layers: it takes "
                         "any input size already and gives one prediction, so there is no grid to make")
    if isinstance(g.module(spatial), _ADAPTIVE_POOLS):
        before = _shape(spatial.args[0])
        if before[-2:] != _shape(spatial)[-2:]:
            raise InputError(f"{name}'s adaptive pooling {spatial.target} resizes {before[-2]}x{before[-1]} to "
                             f"{_shape(spatial)[-2]}x{_shape(spatial)[-1]} at the native input, so its dense layers "
                             "have no convolutional equivalent there")
        # The identity at the native size; on a larger input it would squash the grid back to one prediction.
        spatial.replace_all_uses_with(spatial.args[0])
    _check_downstream(g, flatten)
    for node in [n for n in nodes if g.is_linear(n)]:
        _replace_linear(g, node, reads_map=g.back_to(node.args[0]) is flatten, map_shape=_shape(flatten.args[0]))
    flatten.replace_all_uses_with(flatten.args[0])
    g.gm.graph.eliminate_dead_code()
    g.gm.delete_all_unused_submodules()
    g.gm.recompile()
    return g.gm


def _check_downstream(g: _Graph, flatten: fx.Node) -> None:
    """Everything computed from the flattened vector must have a per-position equivalent."""
    seen, todo = set(), list(flatten.users)
    while todo:
        node = todo.pop()
        if node in seen:
            continue
        seen.add(node)
        if node.op == "output":
            continue
        if not (g.is_linear(node) or g.is_pointwise(node)):
            raise InputError(f"{g.name} cannot be made fully convolutional: after its dense layers, "
                             f"{_describe(node)} ({node.op.replace('_', ' ')}) works on the flattened vector and has "
                             "no per-position equivalent")
        todo += list(node.users)
    calls = [n.target for n in seen if g.is_linear(n)]
    if len(calls) != len(set(calls)):
        raise InputError(f"{g.name} cannot be made fully convolutional: a dense layer is called twice")
    for node in seen:  # a softmax over the classes: on the grid they are the channels
        module = g.module(node)
        if isinstance(module, (nn.Softmax, nn.LogSoftmax)):
            module.dim = 1
        elif node.op == "call_function" and node.target in _SOFTMAX_FUNCTIONS:
            node.args, node.kwargs = node.args[:1], {**node.kwargs, "dim": 1}


def _replace_linear(g: _Graph, node: fx.Node, reads_map: bool, map_shape: tuple) -> None:
    linear = g.module(node)
    if reads_map:
        channels, height, width = map_shape[1:]
        if linear.in_features != channels * height * width:
            raise InputError(f"{g.name}: {node.target} has {linear.in_features} inputs, not the {channels}x{height}x"
                             f"{width} map it reads")
        kernel = (height, width)
    else:
        channels, kernel = linear.in_features, (1, 1)
    w = linear.weight
    conv = nn.Conv2d(channels, linear.out_features, kernel, bias=linear.bias is not None, device=w.device,
                     dtype=w.dtype)
    conv.weight.requires_grad_(w.requires_grad)
    with torch.no_grad():
        if w.device.type != "meta":
            conv.weight.copy_(w.reshape(linear.out_features, channels, *kernel))
            if linear.bias is not None:
                conv.bias.copy_(linear.bias)
    parent, _, attr = node.target.rpartition(".")
    setattr(g.gm.get_submodule(parent) if parent else g.gm, attr, conv)
