"""The fvcore engine: an independent second count, mapped onto the same records as the meta engine.

The model is built on the CPU with real, randomly initialised weights (nothing is downloaded) and fvcore's
``FlopCountAnalysis``, ``ActivationCountAnalysis`` and ``parameter_count`` run on one JIT-traced forward pass at
batch 1, in float32. Every count they produce is linear in the batch, so counts are multiplied by N; byte
figures use the requested dtype's element size. Rows are the module calls of a hooked forward pass, matched
by qualified module name with the meta engine's rows; a parent's own (functional) counts become one row
named after it, after its children.

Systematic differences from the meta engine (asserted in ``tests/test_fvcore_engine.py``):

- fvcore's "flop" is one multiply-add, i.e. our MACs. Its conv handler counts N x prod(weight shape) x output
  spatial size (transposed: input spatial size), its addmm/linear/mm/matmul/bmm handlers m x k x n: the same
  figures as our formulas, so MACs agree exactly. Biases are not counted by either engine's MACs.
- FLOPs here are 2 x MACs plus fvcore's other counts, which are not MACs: batch norm in eval 2 per element
  (1 without affine; training: 5 / 4), group and layer norm 5 per element (4 without affine), instance norm
  the same, adaptive average pooling 1 per input element, nearest upsampling 1 and bilinear upsampling 4 per
  output element, grid sampling 4 per output element. The meta engine's batch norm (2 per element) and
  adaptive average pooling (1 per input element) agree; its layer/group norm also charges 5; bilinear
  upsampling it charges 7.
- fvcore does not count: elementwise ops (add, mul, the residual additions), max and average pooling,
  softmax, sigmoid and other activations, mean. These are listed as uncounted ops (never as zero). ReLU,
  clamp, cat, flatten, dropout and other ops on fvcore's ignore list are dropped silently; the meta engine
  charges 1 FLOP per element to ReLU and clamp.
- fvcore does not count ``scaled_dot_product_attention`` (the QK^T and AV products of attention): it is an
  uncounted op here, while the meta engine charges B x H x L x S x (E + E_v) MACs. Transformers therefore
  have fewer MACs here (ViT-B/16: 4% fewer; timm's ViT-S/16: 8%); convolutional networks agree exactly.
  The analysis runs with gradients enabled, because under ``no_grad`` ``nn.MultiheadAttention`` switches to a
  fused kernel that fvcore cannot see at all (its projections would be missed too).
- Activation memory: fvcore counts only the output elements of convolutions and matrix products (conv,
  addmm, linear, matmul, bmm, einsum); the meta engine counts every tensor created, the input included.
  So the input row is 0 here.
- Parameters: the same tensors (biases and affine weights included, buffers excluded), shared ones once.
  This engine gives each parameter to the module that owns it and reports those of modules that never ran
  as unused; the meta engine gives a parameter to the first op that reads it, so a child's weight read in
  its parent's forward (Swin's qkv/proj, ViT's out_proj) counts there and is "unused" here.
"""
from __future__ import annotations

import copy
import logging
import warnings
from collections import Counter
from contextlib import contextmanager
from typing import Optional

import torch
from torch import nn

from ..errors import InputError
from ..records import Conventions, LayerRecord, Profile, UncountedOp
from ..analyses.counts import anatomy
from ..record.calls import Call, CallLog, ModelRaised
from ..record.guard import left_as_found
from ..record.run import cannot_run
from .base import Engine, assemble, call_records, input_row

# fvcore's operator keys whose counts are multiply-adds ("conv" is its own name for aten::_convolution).
MAC_KEYS = frozenset({"conv", "addmm", "linear", "mm", "matmul", "bmm", "einsum"})

CONVENTIONS = Conventions(
    macs="MACs = fvcore's counts for convolutions and matrix products (conv, addmm, linear, mm, matmul, bmm, "
         "einsum), one per multiply-add; bias additions are not MACs",
    flops="FLOPs = 2 x MACs + fvcore's other counts (batch norm 2 per element in eval, group/layer norm 5, "
          "adaptive average pooling 1 per input element, upsampling 1 or 4 per output element); elementwise "
          "ops, activations, max/average pooling and softmax are not counted by fvcore",
    memory="activation memory = fvcore's activation count (output elements of convolutions and matrix "
           "products only; the input and all other ops excluded) x element size, at the given batch size. "
           "Parameter memory = parameters x element size",
)


@contextmanager
def _quiet():
    """fvcore and torch.jit warn at import and while tracing; users see uncounted ops in the profile instead."""
    logger = logging.getLogger("fvcore")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        logger.setLevel(level)


def _runnable(model: nn.Module) -> nn.Module:
    """A float32 CPU module with real weights that fvcore can run: ``model`` itself when it is one, else a copy
    (the user's module is never cast or moved). Meta weights become uninitialised CPU memory: counts depend on
    shapes only."""
    tensors = list(model.parameters()) + list(model.buffers())
    if all(t.device.type == "cpu" and (t.dtype == torch.float32 or not t.is_floating_point()) for t in tensors):
        return model
    working = copy.deepcopy(model)
    if any(t.is_meta for t in tensors):
        working = working.to_empty(device="cpu")
    return working.to(device="cpu", dtype=torch.float32)


def _own(counts: dict, call: Call, calls: list) -> Counter:
    """A call's counts minus those of its direct children (fvcore's module counts include descendants)."""
    own = Counter(counts.get(call.name, {}))
    for c in calls:
        if c.parent == call.id and c.name != call.name:
            own.subtract(counts.get(c.name, {}))
    return +own


def _params(module: nn.Module, claimed: set) -> tuple:
    total = bias = 0
    for pname, p in module.named_parameters(recurse=False):
        if id(p) not in claimed:
            claimed.add(id(p))
            total += p.numel()
            bias += p.numel() if pname.endswith("bias") else 0
    return total, bias


def _analyse(model: nn.Module, x: torch.Tensor):
    """The module calls in the order they finish, and fvcore's counts by module and operator."""
    order: list[Call] = []
    log = CallLog(model, on_end=lambda call, output: order.append(call))
    with _quiet():  # not under no_grad: that switches nn.MultiheadAttention to a fused op fvcore cannot see
        from fvcore.nn import ActivationCountAnalysis, FlopCountAnalysis

        flops = FlopCountAnalysis(model, x)
        acts = ActivationCountAnalysis(model, x)
        for a in (flops, acts):
            a.unsupported_ops_warnings(False).uncalled_modules_warnings(False).tracer_warnings("none")
        with log.hooked():  # fvcore traces lazily, on the first query: the calls are recorded during that pass
            by_op = flops.by_module_and_operator()
        act = {k: Counter(v) for k, v in acts.by_module_and_operator().items()}
        unsupported = {name: Counter({op.replace("::", "."): n for op, n in flops.unsupported_ops(name).items()})
                       for name in by_op}
    return log.calls, order, by_op, act, unsupported


def _rows(calls: list, order: list, by_op: dict, act: dict, unsupported: dict, n: int, size: int) -> list:
    """One row per module that ran (fvcore sums every call of a module under its name), in finishing order;
    a parent's own ops form one row named after it."""
    layers, claimed, seen = [], set(), set()
    for call in order:
        if call.name in seen:
            continue
        seen.add(call.name)
        leaf = call.children == 0
        ops = Counter(by_op.get(call.name, {})) if leaf else _own(by_op, call, calls)
        acts = act.get(call.name, Counter()) if leaf else _own(act, call, calls)
        missing = unsupported.get(call.name, Counter()) if leaf else _own(unsupported, call, calls)
        params, bias = _params(call.module, claimed)
        if not leaf and not (ops or acts or missing or params):
            continue
        macs = sum(v for k, v in ops.items() if k in MAC_KEYS)
        other = sum(v for k, v in ops.items() if k not in MAC_KEYS)
        elems = sum(acts.values())
        layers.append(LayerRecord(
            name=call.name or "(model)", type=type(call.module).__name__ if leaf else "+".join(ops) or "functional",
            depth=call.depth, call_path=call.path, output_shape=(n, *call.output_shape[1:]) if call.output_shape
            else (), params=params, bias_params=bias, macs=int(macs) * n, flops=int(2 * macs + other) * n,
            activation_elems=int(elems) * n, activation_bytes=int(elems) * n * size, uncounted_ops=tuple(missing),
            **(anatomy(call.module) if leaf else dict(kind="functional"))))
    return layers


class FvcoreEngine(Engine):
    """fvcore's JIT-based counters on a real CPU forward pass at batch 1, scaled to the batch."""

    name = "fvcore"
    build_device = "cpu"  # fvcore runs real weights

    def count(self, module: nn.Module, input_shape: tuple, *, dtype: torch.dtype, name: str,
              formulas: Optional[dict] = None) -> Profile:
        if formulas:
            raise InputError("custom formulas apply to the meta engine; fvcore counts with its own handlers")
        n, size = input_shape[0], torch.empty((), dtype=dtype).element_size()
        model = _runnable(module)
        try:
            with left_as_found(model):
                calls, order, by_op, act, unsupported = _analyse(model, torch.randn((1, *input_shape[1:])))
        except ModelRaised as raised:
            raise cannot_run(name, input_shape, raised, engine=self.name) from raised.error
        except Exception as error:  # fvcore's own tracing failed, outside any module call
            raise cannot_run(name, input_shape, ModelRaised(None, error), engine=self.name) from error
        layers = [input_row(input_shape, 0, 0)] + _rows(calls, order, by_op, act, unsupported, n, size)
        where: dict[str, list] = {}
        for row in layers:
            for op in row.uncounted_ops:
                where.setdefault(op, []).append(row.name)
        counts = unsupported.get("", Counter())
        return assemble(name=name, engine=self.name, input_shape=input_shape, dtype=dtype, layers=layers,
                        calls=call_records(calls, batch=n), param_bytes=sum(r.params for r in layers) * size,
                        all_params=sum(p.numel() for p in model.parameters()),
                        uncounted_ops=tuple(UncountedOp(op=op, count=counts[op] * n, layers=tuple(dict.fromkeys(w)))
                                            for op, w in where.items()),
                        conventions=CONVENTIONS)


ENGINE = FvcoreEngine()
