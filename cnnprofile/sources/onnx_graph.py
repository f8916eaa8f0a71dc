"""``OnnxModule``: an ONNX model's main graph run node by node as torch modules (see ``onnx_torch``)."""
from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from ..errors import CnnprofileError, InputError
from .onnx_ops import STATIC_INPUTS
from .onnx_torch import _WEIGHT_OPS, OnnxNode, _key, _module_for, _row_name, _tensor

_ARITHMETIC = {"Add", "Sub", "Mul", "Div", "Pow", "Max", "Min", "Clip", "Where", "Equal", "Less", "Greater"}


def _array(init) -> np.ndarray:
    from onnx import numpy_helper

    return numpy_helper.to_array(init)


def _weight_names(graph, aliases: dict) -> set:
    """The initializers that are parameters (see ``onnx_torch``): floating, read as a weight, not a running
    statistic, not a setting, and not a single number of arithmetic."""
    inits = {i.name: i for i in graph.initializer}
    floating = {1, 10, 11, 16}
    found, other = set(), set()
    for node in graph.node:
        for i, name in enumerate(node.input):
            name = aliases.get(name, name)
            if name not in inits or inits[name].data_type not in floating:
                continue
            numel = math.prod(inits[name].dims)
            statistic = node.op_type == "BatchNormalization" and i >= 3
            setting = i in STATIC_INPUTS.get(node.op_type, ())
            scalar = numel <= 1 and node.op_type in _ARITHMETIC
            (other if statistic or setting or scalar else found).add(name)
    return found


class OnnxModule(nn.Module):
    """The graph's nodes as modules named after the PyTorch modules they came from, run in the file's order."""

    def __init__(self, model):
        super().__init__()
        graph = model.graph
        self.opset = {o.domain or "": o.version for o in model.opset_import}
        self.model_proto = model
        inits = {i.name: i for i in graph.initializer}
        self.input_names = [i.name for i in graph.input if i.name not in inits]
        self.output_names = [o.name for o in graph.output]
        # An Identity of an initializer (how the exporter shares one weight) is that initializer.
        self.aliases = {}
        for node in graph.node:
            if node.op_type == "Identity" and aliases_target(node.input[0], self.aliases) in inits:
                self.aliases[node.output[0]] = aliases_target(node.input[0], self.aliases)
        names = _weight_names(graph, self.aliases)
        self.weight_names = frozenset(names)
        self.weight_shapes = {n: tuple(inits[n].dims) for n in names}  # for a Shape node that reads a weight
        device = torch.get_default_device()
        weights = {n: nn.Parameter(torch.empty(tuple(inits[n].dims), dtype=_dtype(inits[n]))
                                   if device.type == "meta" else torch.from_numpy(_array(inits[n]).copy()))
                   for n in names}
        constants = {n: _array(i) for n, i in inits.items() if n not in names}
        for node in graph.node:
            if node.op_type == "Constant":  # value, value_float(s), value_int(s): ONNX's own reading of them
                constants[node.output[0]] = self._constant(node, [])[0]
        self.constants = constants
        self.steps = []  # (node, module or None for constants and aliases)
        paths = [_row_name(n) for n in graph.node]
        parents = {p.rsplit(".", 1)[0] for p in paths if "." in p}
        shared: dict = {}  # a module called again, as PyTorch calls one ReLU after each convolution of a block
        for node, path in zip(graph.node, paths):
            if node.op_type == "Constant" or node.output[0] in self.aliases:
                self.steps.append((node, None))
                continue
            local = {self.aliases.get(n, n): w for n, w in weights.items()}
            ins = [self.aliases.get(n, n) for n in node.input]
            resolved = type(node)()
            resolved.CopyFrom(node)
            del resolved.input[:]
            resolved.input.extend(ins)
            module = _module_for(resolved, local, constants) or OnnxNode(resolved, local, constants)
            path = path if path not in parents else f"{path}.{node.op_type.lower()}"
            if isinstance(module, OnnxNode):
                module.__class__ = _node_class(node.op_type)
                if not module.slots:  # no weights: one module per (place, op, settings), like a reused ReLU
                    key = (path, node.op_type, repr(sorted(module.attrs.items())))
                    if key in shared:
                        self.steps.append((resolved, shared[key]))
                        continue
                    shared[key] = module
            self._place(path, module)
            self.steps.append((resolved, module))

    def _place(self, path: str, module: nn.Module) -> None:
        """Add ``module`` under its dotted ``path``, through plain containers (made where missing)."""
        parent = self
        parts = [_key(p) for p in path.split(".")]
        for part in parts[:-1]:
            child = parent._modules.get(part)
            if type(child) is not nn.Module:  # missing, or a node already holds the name
                part = _free(parent, part)
                child = nn.Module()
                parent.add_module(part, child)
            parent = child
        parent.add_module(_free(parent, parts[-1]), module)

    def forward(self, *args):
        if len(args) != len(self.input_names):
            raise InputError(f"the ONNX graph takes {len(self.input_names)} input(s) "
                             f"({', '.join(self.input_names)}), given {len(args)}")
        values = dict(self.constants)
        values.update(zip(self.input_names, args))
        for node, module in self.steps:
            if module is None:  # a Constant (in ``constants`` already) or an alias of an initializer
                continue
            ins = [values.get(n) if n else None for n in node.input]
            if any(n and v is None and n not in self.weight_names for n, v in zip(node.input, ins)):
                missing = next(n for n, v in zip(node.input, ins) if n and v is None)
                raise CnnprofileError(f"ONNX node {node.name or node.op_type!r} reads {missing!r}, which no "
                                      "node or initializer defines")
            outs = self._constant(node, ins) if self._is_constant(node, ins, module) else None
            if outs is None:
                tensors = [v if isinstance(v, torch.Tensor) else None for v in ins]
                if isinstance(module, OnnxNode):
                    module.static = {i: v for i, v in enumerate(ins) if isinstance(v, np.ndarray)}
                    module.out_shapes = self._inferred(node, args)
                    for i, v in enumerate(ins):  # a constant computed at run time, used as data
                        if isinstance(v, np.ndarray) and i not in module.slots \
                                and i not in STATIC_INPUTS.get(node.op_type, ()):
                            tensors[i] = _tensor(v).to(args[0].device)
                    outs = module(*tensors)
                else:
                    outs = module(tensors[0])
                outs = outs if isinstance(outs, tuple) else (outs,)
            for name, value in zip(node.output, outs):
                values[name] = value
        result = tuple(values[n] for n in self.output_names)
        return result[0] if len(result) == 1 else result

    def _is_constant(self, node, ins: list, module) -> bool:
        if node.op_type == "Shape" or (node.op_type == "CastLike" and isinstance(ins[0], np.ndarray)):
            return True
        if isinstance(module, OnnxNode) and any(attr.startswith("w") for attr in module.slots.values()):
            return False  # it reads a weight
        return bool(ins) and all(v is None or isinstance(v, np.ndarray) for v in ins) and \
            not isinstance(module, nn.modules.conv._ConvNd)

    def _constant(self, node, ins: list):
        if node.op_type == "Shape":
            x = ins[0]
            shape = np.array(list(x.shape if x is not None else self.weight_shapes[node.input[0]]), dtype=np.int64)
            attrs = {a.name: a.i for a in node.attribute}
            return (shape[attrs.get("start", 0):attrs.get("end", len(shape))],)
        if node.op_type == "CastLike":  # a constant cast to the type of a tensor: still a constant
            like = ins[1]
            dtype = like.dtype if isinstance(like, np.ndarray) else torch.empty((), dtype=like.dtype).numpy().dtype
            return (ins[0].astype(dtype),)
        from onnx import helper
        from onnx.reference import ReferenceEvaluator

        names = [f"i{k}" if n else "" for k, n in enumerate(node.input)]
        single = helper.make_node(node.op_type, names, list(node.output), domain=node.domain or None)
        single.attribute.extend(node.attribute)
        graph = helper.make_graph([single], "constant", [helper.make_empty_tensor_value_info(n) for n in names if n],
                                  [helper.make_empty_tensor_value_info(n) for n in node.output])
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid(d, v) for d, v in self.opset.items()])
        feeds = {n: v for n, v in zip(names, ins) if n}
        return tuple(np.asarray(v) for v in ReferenceEvaluator(model).run(None, feeds))

    def _inferred(self, node, args) -> list:
        """[(shape, dtype)] of the node's outputs by ONNX's shape inference at this call's input shapes; [] if
        it cannot tell (only needed for an op we do not know)."""
        from .onnx_ops import OPS

        if node.op_type in OPS:
            return []
        shapes = inferred_shapes(self.model_proto, [tuple(a.shape) for a in args])
        return [shapes[o] for o in node.output if o in shapes]


def inferred_shapes(model, input_shapes: list) -> dict:
    """{value name: (shape, torch dtype)} by ONNX's shape inference with the graph inputs at ``input_shapes``."""
    import onnx

    copy = onnx.ModelProto()
    copy.CopyFrom(model)
    inits = {i.name for i in copy.graph.initializer}
    graph_inputs = [v for v in copy.graph.input if v.name not in inits]
    for value, shape in zip(graph_inputs, input_shapes):
        dims = value.type.tensor_type.shape.dim
        del dims[:]
        for d in shape:
            dims.add().dim_value = int(d)
    inferred = onnx.shape_inference.infer_shapes(copy, data_prop=True)
    out = {}
    for value in (*inferred.graph.value_info, *inferred.graph.output):
        t = value.type.tensor_type
        if t.HasField("shape") and all(d.HasField("dim_value") for d in t.shape.dim):
            out[value.name] = (tuple(d.dim_value for d in t.shape.dim),
                               _dtype(t.elem_type))
    return out


def aliases_target(name: str, aliases: dict) -> str:
    return aliases.get(name, name)


def _dtype(init) -> torch.dtype:
    """The torch dtype of an initializer, or of an ONNX element type (an int)."""
    from onnx import helper

    code = init if isinstance(init, int) else init.data_type
    return torch.from_numpy(np.zeros((), dtype=helper.tensor_dtype_to_np_dtype(code))).dtype


def _free(parent: nn.Module, key: str) -> str:
    if key not in parent._modules:
        return key
    k = 1
    while f"{key}_{k}" in parent._modules:
        k += 1
    return f"{key}_{k}"


_CLASSES: dict = {}


def _node_class(op_type: str) -> type:
    """A subclass of ``OnnxNode`` named after the op, so that a row's type reads ``Relu``, ``Add``, ``MatMul``."""
    if op_type not in _CLASSES:
        _CLASSES[op_type] = type(_key(op_type), (OnnxNode,), {"__module__": "cnnprofile.sources.onnx_ops"})
    return _CLASSES[op_type]


__all__ = ["OnnxModule", "_WEIGHT_OPS"]
