"""ONNX files as model sources: ``path/to/model.onnx`` on every command.

The file is checked and its main graph converted to a torch module (``onnx_graph.OnnxModule``) that is traced
like any PyTorch model. The input comes from the graph's declared inputs (a symbolic first dimension is the
batch, taken as 1) or from ``--input``. Needs the ``onnx`` package (``pip install 'cnnprofile[onnx]'``).
"""
from __future__ import annotations

import os

from ..errors import CnnprofileError, InputError
from ..inputs import Inputs, TensorSpec
from .base import ModelSource


def import_onnx():
    try:
        import onnx
    except ImportError:
        raise CnnprofileError("onnx is not installed; pip install 'cnnprofile[onnx]'") from None
    return onnx


def load_onnx(path: str):
    """The checked ``ModelProto`` of ``path``; one-line errors for a missing, foreign, truncated or invalid file."""
    onnx = import_onnx()
    if not os.path.isfile(path):
        raise InputError(f"no such file: {path}")
    try:
        model = onnx.load(path)
    except Exception as e:  # protobuf's DecodeError, or onnx's own on external data
        raise InputError(f"{path} is not a readable ONNX model (truncated, or not ONNX): "
                         f"{str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__}") from None
    if not model.HasField("graph") or not model.graph.node or not model.opset_import:
        raise InputError(f"{path} is not an ONNX model: it has no graph of nodes")
    try:
        onnx.checker.check_model(model)
    except Exception as e:
        raise InputError(f"{path} is not a valid ONNX model: {str(e).strip().splitlines()[0]}") from None
    return model


def _declared(path: str, model) -> Inputs:

    from .onnx_graph import _dtype

    inits = {i.name for i in model.graph.initializer}
    specs = []
    for value in model.graph.input:
        if value.name in inits:
            continue
        tensor = value.type.tensor_type
        dims = [d.dim_value if d.HasField("dim_value") else None for d in tensor.shape.dim]
        if dims and dims[0] is None:
            dims[0] = 1  # a symbolic batch
        if any(d is None for d in dims):
            raise InputError(f"{path}: input {value.name!r} has symbolic dimensions; pass --input SHAPE")
        dtype = None if tensor.elem_type == 1 else _dtype(tensor.elem_type)
        specs.append(TensorSpec(tuple(int(d) for d in dims), dtype))
    return Inputs(tuple(specs))


def onnx_source(path: str, kwargs: dict) -> ModelSource:
    if kwargs:
        raise InputError(f"{path}: an ONNX file takes no --kwargs")
    model = load_onnx(path)

    def build():
        from .onnx_graph import OnnxModule

        return OnnxModule(model)

    return ModelSource(name=os.path.basename(path), origin="onnx", builder=build, inputs=_declared(path, model),
                       task="other", build_path="meta", spec=path)
