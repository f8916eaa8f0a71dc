"""An ONNX graph as a torch module, so that it is traced on the meta device like any PyTorch model.

Why convert rather than count the ONNX graph with formulas of its own: the ATen ops a converted graph
dispatches are those its PyTorch model dispatched (a ``Conv`` is ``aten.convolution``, a ``Gemm`` is
``aten.addmm``), so one formula registry, with its conventions, counts both, and the two profiles agree by
construction where the graphs agree; a second set of formulas over ONNX ops would drift from the first. We
write the conversion ourselves (``onnx2torch`` reads no opset above 16, torch's exporter writes 18, and it
makes the weights of a ``MatMul`` buffers).

- Parameters are the floating initializers a node reads as weights (``Conv``/``Gemm``/``MatMul`` operands,
  normalisation scales and shifts, a layer scale), each counted once: a weight the exporter routes through an
  ``Identity`` node is the initializer itself, and one shared by several nodes is one parameter. Batch-norm
  running statistics are buffers, as in PyTorch; so are single-number constants of arithmetic (GELU's 0.5).
  An exporter that folds batch norm into the convolutions (torch's, in eval mode) writes fewer parameters:
  each convolution gains a bias of C numbers where its batch norm had 2C.
- Constants and shape arithmetic (``Shape``, ``Gather``, ``Concat`` of shapes, an opset-13 ``Unsqueeze``'s axes)
  are evaluated with NumPy by ONNX's reference implementation, never traced: they are settings, not compute.
- A ``Conv``, ``Gemm``, ``BatchNormalization``, pooling or global average pooling node becomes the torch
  module a PyTorch model would have (``nn.Conv2d``...), so rows have the same kinds and labels; every other
  node is a module named after its op type calling ``onnx_ops.OPS``. Rows are named after the PyTorch module
  the exporter recorded (``/layer1/layer1.0/conv1/Conv`` -> ``layer1.0.conv1``), else after the node.
- An op we do not know runs as ``onnx_op.<Type>``, with the output shape ONNX's shape inference gives it and no
  formula, so it is listed as uncounted, never as zero.
"""
from __future__ import annotations

import ast
import re
from typing import Optional

import numpy as np
import torch
from torch import nn

from ..errors import CnnprofileError
from .onnx_ops import OPS, STATIC_INPUTS, spatial_padding

_WEIGHT_OPS = {"Conv", "ConvTranspose", "Gemm", "MatMul", "BatchNormalization", "LayerNormalization",
               "InstanceNormalization", "PRelu"}


def attributes(node) -> dict:
    from onnx import helper

    return {a.name: helper.get_attribute_value(a) for a in node.attribute} | \
        {k: v.decode() for a in node.attribute for k, v in [(a.name, helper.get_attribute_value(a))]
         if isinstance(v, bytes)}


def _row_name(node) -> str:
    """The PyTorch module a node came from, as the exporter recorded it; else the node's own name."""
    for prop in node.metadata_props:  # torch.onnx.export(dynamo=True)
        if prop.key == "pkg.torch.onnx.name_scopes":
            scopes = [s for s in ast.literal_eval(prop.value) if s]
            if len(scopes) >= 2:
                return scopes[-2]
    # The legacy exporter: /layer1/layer1.0/downsample/downsample.0/Conv, each scope the module's name in its
    # parent, a container's child written parent.index.
    parts = [p for p in node.name.split("/") if p][:-1]
    name, local = "", ""
    for part in parts:
        if local and part.startswith(local + "."):
            name = name[:len(name) - len(local)] + part
        else:
            name = f"{name}.{part}" if name else part
        local = part
    return name or node.name or node.op_type


def _key(text: str) -> str:
    return re.sub(r"\W", "_", text) or "_"


class OnnxNode(nn.Module):
    """One ONNX node: its op from ``onnx_ops.OPS`` over its data inputs, its own weights and its constants."""

    def __init__(self, node, weights: dict, constants: dict):
        super().__init__()
        self.op_type, self.attrs = node.op_type, attributes(node)
        self.fn = OPS.get(node.op_type)
        self.slots: dict = {}  # input index -> attribute holding it (a parameter or buffer)
        self.static: dict = {}  # input index -> NumPy value, for this call
        self.out_shapes: list = []  # [(shape, dtype)] by shape inference, for an op we do not know
        for i, name in enumerate(node.input):
            if name in weights:
                self.slots[i] = f"w{i}"
                self.register_parameter(self.slots[i], weights[name])
            elif name in constants and i not in STATIC_INPUTS.get(node.op_type, ()):
                self.slots[i] = f"c{i}"
                self.register_buffer(self.slots[i], _tensor(constants[name]))

    def forward(self, *inputs):
        values = list(inputs)
        for i, attr in self.slots.items():
            values[i] = getattr(self, attr)
        if self.fn is None:
            return uncounted(self.op_type, values, self.out_shapes)
        return self.fn(self.attrs, values, lambda i: self.static.get(i))


def _tensor(array: np.ndarray) -> torch.Tensor:
    """A constant on the default device (meta while building for a profile: its values are not needed there)."""
    device = torch.get_default_device()
    if device.type == "meta":
        dtype = torch.from_numpy(np.zeros((), dtype=array.dtype)).dtype
        return torch.empty(array.shape, dtype=dtype)
    return torch.from_numpy(np.array(array)).to(device)


_LIBRARY = None
_DEFINED: set = set()


def uncounted(op_type: str, inputs: list, shapes: list):
    """The node's outputs from ONNX's inferred shapes, through an op ``onnx_op.<type>`` that has no formula."""
    global _LIBRARY
    if not shapes:
        raise CnnprofileError(f"ONNX op {op_type} is not supported and ONNX's shape inference gives no shape "
                              "for its output")
    name = _key(op_type)
    if _LIBRARY is None:
        _LIBRARY = torch.library.Library("onnx_op", "DEF")
    if name not in _DEFINED:
        _LIBRARY.define(f"{name}(Tensor[] inputs, int[] shape, ScalarType dtype) -> Tensor")
        for key in ("Meta", "CPU"):
            _LIBRARY.impl(name, _empty_like_inferred, key)
        _DEFINED.add(name)
    op = getattr(torch.ops.onnx_op, name)
    tensors = [t for t in inputs if isinstance(t, torch.Tensor)]
    outs = tuple(op(tensors, list(shape), dtype) for shape, dtype in shapes)
    return outs[0] if len(outs) == 1 else outs


def _empty_like_inferred(inputs, shape, dtype):
    return torch.empty(shape, dtype=dtype, device=inputs[0].device)


class GlobalAveragePool(nn.AdaptiveAvgPool2d):
    """ONNX's global average pooling: PyTorch's ``AdaptiveAvgPool2d(1)`` on an image, a mean for other ranks."""

    def __init__(self):
        super().__init__(1)

    def forward(self, x):
        return super().forward(x) if x.dim() == 4 else x.mean(dim=tuple(range(2, x.dim())), keepdim=True)


def _module_for(node, weights: dict, constants: dict) -> Optional[nn.Module]:
    """The torch module a PyTorch model would have for this node, where there is one."""
    attrs, op, inputs = attributes(node), node.op_type, list(node.input)
    w = weights.get(inputs[1]) if len(inputs) > 1 else None
    if op == "Conv" and w is not None and w.dim() in (3, 4, 5) and attrs.get("auto_pad", "NOTSET") == "NOTSET":
        padding, flat = spatial_padding(attrs, torch.empty((1, 1) + (1,) * (w.dim() - 2), device="meta"),
                                        list(w.shape[2:]))
        bias = weights.get(inputs[2]) if len(inputs) > 2 and inputs[2] else None
        if flat is not None or (len(inputs) > 2 and inputs[2] and bias is None):
            return None
        cls = {3: nn.Conv1d, 4: nn.Conv2d, 5: nn.Conv3d}[w.dim()]
        groups = attrs.get("group", 1)
        n = len(padding)
        m = cls(w.shape[1] * groups, w.shape[0], tuple(w.shape[2:]), stride=tuple(attrs.get("strides", [1] * n)),
                padding=padding, dilation=tuple(attrs.get("dilations", [1] * n)), groups=groups, bias=bias is not None)
        m.weight = w
        if bias is not None:
            m.bias = bias
        return m
    if op == "Gemm" and w is not None and attrs.get("transB", 0) == 1 and not attrs.get("transA", 0) \
            and attrs.get("alpha", 1.0) == 1.0 and attrs.get("beta", 1.0) == 1.0 and len(inputs) > 2 \
            and weights.get(inputs[2]) is not None and weights[inputs[2]].dim() == 1:
        m = nn.Linear(w.shape[1], w.shape[0])
        m.weight, m.bias = w, weights[inputs[2]]
        return m
    if op == "BatchNormalization" and all(n in weights for n in inputs[1:3]) \
            and all(n in constants for n in inputs[3:5]):
        scale = weights[inputs[1]]
        m = nn.BatchNorm2d(scale.shape[0], eps=attrs.get("epsilon", 1e-5))
        m.weight, m.bias = scale, weights[inputs[2]]
        m.running_mean, m.running_var = _tensor(constants[inputs[3]]), _tensor(constants[inputs[4]])
        return m.eval()
    if op == "GlobalAveragePool":
        return GlobalAveragePool()
    if op in ("MaxPool", "AveragePool") and len(attrs["kernel_shape"]) == 2 \
            and attrs.get("auto_pad", "NOTSET") == "NOTSET" and len(node.output) == 1:
        padding, flat = spatial_padding(attrs, torch.empty(1, 1, 1, 1, device="meta"), attrs["kernel_shape"])
        if flat is not None or (op == "MaxPool" and attrs.get("dilations", [1, 1]) != [1, 1]):
            return None
        kw = dict(kernel_size=tuple(attrs["kernel_shape"]), stride=tuple(attrs.get("strides", [1, 1])),
                  padding=padding, ceil_mode=bool(attrs.get("ceil_mode", 0)))
        if op == "MaxPool":
            return nn.MaxPool2d(**kw)
        return nn.AvgPool2d(**kw, count_include_pad=bool(attrs.get("count_include_pad", 0)))
    return None
