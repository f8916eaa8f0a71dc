"""The kernels a GPU (or CPU) would launch for a recorded forward pass, each with what sets its time: its class,
its FLOPs, the bytes it moves and the shape of its inner product. A pure function of the recording.

A latency predictor needs the executed kernels, not the dispatched ops: views and reshapes launch nothing,
and the math decomposition of ``scaled_dot_product_attention`` that the meta device records (two batched
products around a softmax) is one fused kernel on a GPU (flash or memory-efficient attention), reading Q, K and
V and writing the output, never the attention matrix. Bytes are split into activations (which grow with the
batch) and parameters (which do not), so one recording serves every batch and every element size.
"""
from __future__ import annotations

from dataclasses import dataclass
from math import prod

import torch

from ..record.recorder import Node, Recording
from .counts import op_costs

# Kernel classes: each has its own achievable fraction of the roofs in a calibration.
CLASSES = ("conv", "conv1x1", "dwconv", "gconv", "matmul", "attention", "norm", "pool", "reduce", "elementwise",
           "copy", "cast")
# The classes whose FLOPs run on the matrix units (tensor cores): their compute roof is the precision's peak.
MATRIX = ("conv", "conv1x1", "dwconv", "gconv", "matmul", "attention")

_CONV = {"aten.convolution", "aten._convolution", "aten.cudnn_convolution", "aten.mkldnn_convolution"}
_MATMUL = {"aten.mm", "aten.addmm", "aten.bmm", "aten.baddbmm", "aten.matmul", "aten.linear", "aten.mv",
           "aten.dot"}
_NORM = {"aten.native_batch_norm", "aten._native_batch_norm_legit_no_training", "aten._native_batch_norm_legit",
         "aten.cudnn_batch_norm", "aten.batch_norm", "aten.native_layer_norm", "aten.native_group_norm",
         "aten.layer_norm", "aten.group_norm", "aten._fused_rms_norm", "aten.rms_norm"}
_FUSED_ATTENTION = {"aten._scaled_dot_product_flash_attention", "aten._scaled_dot_product_efficient_attention",
                    "aten._scaled_dot_product_cudnn_attention", "aten._scaled_dot_product_flash_attention_for_cpu"}
_REDUCE = {"aten.mean", "aten.sum", "aten.amax", "aten.amin", "aten.max", "aten.min", "aten.var", "aten.std",
           "aten.norm", "aten.linalg_vector_norm", "aten.logsumexp", "aten.cumsum", "aten._softmax",
           "aten._safe_softmax", "aten._log_softmax", "aten.softmax", "aten.log_softmax", "aten.var_mean"}
_COPY = {"aten.clone", "aten.copy_", "aten.cat", "aten.stack", "aten.constant_pad_nd", "aten.index",
         "aten.gather", "aten.index_select", "aten.roll", "aten.flip", "aten.repeat", "aten._to_copy",
         "aten.reflection_pad2d", "aten.replication_pad2d", "aten.upsample_nearest1d", "aten.upsample_nearest2d",
         "aten.upsample_nearest3d", "aten._unsafe_index", "aten.channel_shuffle", "aten.pixel_shuffle",
         "aten.pixel_unshuffle", "aten.im2col", "aten.col2im", "aten.contiguous", "aten.lift_fresh_copy"}
# Ops that allocate or relabel memory and launch no kernel.
_NO_KERNEL = {"aten.empty", "aten.empty_like", "aten.empty_strided", "aten.new_empty", "aten._unsafe_view",
              "aten.detach", "aten.alias", "aten.lift_fresh", "aten.scalar_tensor", "aten._local_scalar_dense",
              "aten.split", "aten.split_with_sizes", "aten.chunk", "aten.unbind", "aten.reshape"}


@dataclass(frozen=True)
class Kernel:
    """One launched kernel. ``flops`` and ``act_bytes`` are at the recorded batch; ``param_bytes`` are the
    parameters it reads (the same at every batch). Bytes are at the recording's element size."""

    row: int  # index of the layer row (``Recording.rows()``) that ran it; -1 outside any
    cls: str
    flops: int
    act_bytes: int
    param_bytes: int
    reduction: int  # inner-product length per output (C_in/groups x kernel, or the matmul's K); 0 elsewhere
    width: int  # output channels or columns of a matrix kernel; 0 elsewhere
    uncounted: bool = False  # no FLOP formula: its FLOPs are unknown (0 here), its bytes are still moved


@dataclass(frozen=True)
class Kernels:
    kernels: tuple  # of Kernel, in launch order
    rows: tuple  # layer row names, indexed by ``Kernel.row``
    element_size: int  # bytes per element of the recording's floating-point tensors
    param_tensors: int  # distinct floating-point parameter tensors read (each cast once per step under autocast)
    param_bytes: int  # their bytes


def _bytes(t: torch.Tensor) -> int:
    return prod(s for s, st in zip(t.shape, t.stride()) if st != 0) * t.element_size()


def _conv_class(node: Node) -> tuple:
    x, w = node.args[0], node.args[1]
    groups = node.args[8] if len(node.args) > 8 else 1
    transposed = bool(node.args[6]) if len(node.args) > 6 else False
    c_in = x.shape[1]
    out_ch = w.shape[1] * groups if transposed else w.shape[0]
    reduction = prod(w.shape[1:]) if not transposed else (w.shape[0] // groups) * prod(w.shape[2:])
    if groups == 1:
        cls = "conv1x1" if prod(w.shape[2:]) == 1 else "conv"
    elif groups == c_in:
        cls = "dwconv"
    else:
        cls = "gconv"
    return cls, reduction, out_ch


def _matmul_shape(node: Node) -> tuple:
    a = node.args[1] if node.op in ("aten.addmm", "aten.baddbmm") else node.args[0]
    b = node.args[2] if node.op in ("aten.addmm", "aten.baddbmm") else node.args[1]
    if not isinstance(b, torch.Tensor) or b.dim() < 1:
        return 0, 0
    return a.shape[-1], (b.shape[-1] if b.dim() > 1 else 1)


def classify(node: Node) -> str | None:
    """The kernel class of one op; None where it launches nothing (views, allocations)."""
    if node.aliases and not node.in_place:
        return None
    if node.op in _NO_KERNEL or not node.outputs:
        return None
    if node.op in _CONV:
        return _conv_class(node)[0]
    if node.op in _MATMUL:
        return "matmul"
    if node.op in _FUSED_ATTENTION:
        return "attention"
    if node.op in _NORM:
        return "norm"
    if "pool" in node.op:
        return "pool"
    if node.op in _REDUCE:
        return "reduce"
    if node.op in _COPY:
        return "copy"
    return "elementwise"


_PASS_THROUGH = {"aten.expand", "aten.view", "aten._unsafe_view", "aten.clone", "aten.transpose", "aten.permute",
                 "aten.t", "aten.unsqueeze", "aten.contiguous"}


def _scaling_mul(nodes: list, producer: dict, t, call) -> int | None:
    """The math path scales Q and K by sqrt(scale) before QK^T: the one product by a number that an input of the
    QK^T product comes from, through reshapes and copies of the same module call."""
    i = producer.get(id(t))
    while i is not None and nodes[i].call == call and nodes[i].op in _PASS_THROUGH and nodes[i].inputs:
        i = producer.get(id(nodes[i].inputs[0]))
    if i is not None and nodes[i].call == call and nodes[i].op == "aten.mul" and len(nodes[i].inputs) == 1:
        return i
    return None


def _attention_regions(nodes: list) -> dict:
    """{index of the QK^T product: (index of the product with V, indices of the scaling products)} of every
    math-path attention in the recording.

    ``_safe_softmax`` appears only in ``scaled_dot_product_attention``'s math decomposition: between its QK^T
    and its product with V, in one module call, everything belongs to the one fused kernel a GPU runs.
    """
    producer = {id(t): n.index for n in nodes for t in n.outputs}
    regions = {}
    for i, node in enumerate(nodes):
        if node.op != "aten._safe_softmax":
            continue
        same = node.call
        qk = i - 1
        while qk >= 0 and nodes[qk].call == same and nodes[qk].op != "aten.bmm":
            qk -= 1
        av = i + 1
        while av < len(nodes) and nodes[av].call == same and nodes[av].op != "aten.bmm":
            av += 1
        if qk < 0 or av >= len(nodes) or nodes[qk].op != "aten.bmm" or nodes[av].op != "aten.bmm":
            continue
        scaling = {j for t in nodes[qk].inputs if (j := _scaling_mul(nodes, producer, t, same)) is not None}
        regions[qk] = (av, scaling)
    return regions


def kernels_of(rec: Recording, costs: list | None = None) -> Kernels:
    """The kernels of a recorded forward pass, with their layer rows."""
    costs = op_costs(rec) if costs is None else costs
    rows = rec.rows()
    row_of = {node.index: r for r, row in enumerate(rows) for node in row.nodes}
    params = {i for i in rec.params}
    nodes = rec.nodes
    regions = _attention_regions(nodes)
    out: list[Kernel] = []
    seen_params: dict = {}
    root: dict = {}  # id of a view -> id of the tensor it views
    element = 4
    i = 0
    absorbed = {j for _, scaling in regions.values() for j in scaling}
    while i < len(nodes):
        node = nodes[i]
        if i in regions:  # one fused attention kernel: Q, K, V read, the output written
            end, scaling = regions[i]
            q, k = node.args[0], node.args[1]
            v, o = nodes[end].args[1], nodes[end].outputs[0]
            inside = nodes[i:end + 1] + [nodes[j] for j in scaling]
            flops = sum(costs[n.index].flops for n in inside if costs[n.index] is not None)
            moved = sum(t.numel() * t.element_size() for t in (q, k, v, o))
            out.append(Kernel(row_of.get(node.index, -1), "attention", flops, moved, 0, q.shape[-1],
                              v.shape[-1]))
            i = end + 1
            continue
        if i in absorbed:  # a scaling product done inside the fused attention kernel
            i += 1
            continue
        i += 1
        if node.aliases and not node.in_place and node.inputs and node.outputs:
            # A view of a parameter (``weight.t()`` before ``addmm``) is still the parameter.
            base = root.get(id(node.inputs[0]), id(node.inputs[0]))
            for t in node.outputs:
                root[id(t)] = base
        cls = classify(node)
        if cls is None:
            continue
        act = param = 0
        for t in node.inputs:
            base = root.get(id(t), id(t))
            if base in params:
                param += _bytes(t)
                seen_params.setdefault(base, _bytes(t))
            else:
                act += _bytes(t)
        act += sum(map(_bytes, node.outputs))
        if node.outputs and node.outputs[0].is_floating_point():
            element = node.outputs[0].element_size()
        reduction = width = 0
        if cls in ("conv", "conv1x1", "dwconv", "gconv"):
            _, reduction, width = _conv_class(node)
        elif cls == "matmul":
            reduction, width = _matmul_shape(node)
        cost = costs[node.index]
        out.append(Kernel(row_of.get(node.index, -1), cls, cost.flops if cost else 0, act, param, reduction,
                          width, uncounted=cost is None))
    return Kernels(tuple(out), tuple(r.name for r in rows), element, len(seen_params), sum(seen_params.values()))


__all__ = ["CLASSES", "MATRIX", "Kernel", "Kernels", "classify", "kernels_of"]
