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

import logging
import warnings
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Optional

import torch
from torch import nn

from ..analyzer import classify
from ..errors import TraceError
from ..inputs import dtype_name, parse_dtype
from ..records import CallRecord, Conventions, LayerRecord, Profile, Totals, UncountedOp
from ..sources import module_and_shape

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


@dataclass
class _Call:
    id: int
    name: str
    module: nn.Module
    depth: int
    parent: Optional[int]
    children: int = 0
    output_shape: tuple = ()
    path: tuple = field(default=())


def _record_calls(model: nn.Module, run):
    """``run()``'s result and the module calls of the forward pass it makes, in the order they finish."""
    names = {id(m): n for n, m in model.named_modules()}
    stack: list[_Call] = []
    calls: list[_Call] = []
    order: list[_Call] = []

    def pre(module, args):
        parent = stack[-1] if stack else None
        call = _Call(len(calls), names.get(id(module), "?"), module, len(stack), parent and parent.id,
                     path=(parent.path if parent else ()) + (len(calls),))
        if parent:
            parent.children += 1
        calls.append(call)
        stack.append(call)

    def post(module, args, out):
        call = stack.pop()
        first = out[0] if isinstance(out, (tuple, list)) and out else out
        # under the JIT tracer sizes can be 0-d tensors
        call.output_shape = tuple(int(d) for d in first.shape) if isinstance(first, torch.Tensor) else ()
        order.append(call)

    handles = [h for m in model.modules() for h in (m.register_forward_pre_hook(pre), m.register_forward_hook(post))]
    try:
        result = run()
    finally:
        for h in handles:
            h.remove()
    return calls, order, result


def _own(counts: dict, call: _Call, calls: list) -> Counter:
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
    with _quiet():  # not under no_grad: that switches nn.MultiheadAttention to a fused op fvcore cannot see
        from fvcore.nn import ActivationCountAnalysis, FlopCountAnalysis

        flops = FlopCountAnalysis(model, x)
        acts = ActivationCountAnalysis(model, x)
        for a in (flops, acts):
            a.unsupported_ops_warnings(False).uncalled_modules_warnings(False).tracer_warnings("none")
        # fvcore traces lazily, on the first query: the module calls are recorded during that forward pass
        calls, order, by_op = _record_calls(model, flops.by_module_and_operator)
        act = {k: Counter(v) for k, v in acts.by_module_and_operator().items()}
        unsupported = {name: Counter({op.replace("::", "."): n for op, n in flops.unsupported_ops(name).items()})
                       for name in by_op}
    return calls, order, by_op, act, unsupported


def profile_model_fvcore(model: nn.Module, input_shape: tuple, dtype: torch.dtype = torch.float32,
                         name: Optional[str] = None) -> Profile:
    """Count ``model`` (on the CPU, real weights) with fvcore; ``input_shape`` is (N, C, H, W)."""
    name = name or type(model).__name__
    n = input_shape[0]
    size = torch.empty((), dtype=dtype).element_size()
    modes = {m: m.training for m in model.modules()}
    model = model.float().eval()
    x = torch.randn((1, *input_shape[1:]))
    try:
        calls, order, by_op, act, unsupported = _analyse(model, x)
    except Exception as e:
        reason = (str(e).strip().splitlines() or [type(e).__name__])[0]
        raise TraceError(f"{name} cannot run on input {'x'.join(map(str, input_shape))} with fvcore: {reason}") \
            from e
    finally:
        for m, mode in modes.items():
            m.train(mode)

    layers = [LayerRecord(name="input", type="Input", kind="input", label="INPUT", depth=0, call_path=(),
                          output_shape=tuple(input_shape), params=0, bias_params=0, macs=0, flops=0,
                          activation_elems=0, activation_bytes=0)]
    claimed: set = set()
    seen: set = set()
    for call in order:
        if call.name in seen:  # fvcore sums every call of a module under its name: one row for all of them
            continue
        seen.add(call.name)
        leaf = call.children == 0
        ops = Counter(by_op.get(call.name, {})) if leaf else _own(by_op, call, calls)
        acts = act.get(call.name, Counter()) if leaf else _own(act, call, calls)
        missing = unsupported.get(call.name, Counter()) if leaf else _own(unsupported, call, calls)
        params, bias = _params(call.module, claimed)
        if not leaf and not (ops or acts or missing or params):
            continue
        kind, label = classify(call.module) if leaf else ("functional", "(own ops)")
        macs = sum(v for k, v in ops.items() if k in MAC_KEYS)
        other = sum(v for k, v in ops.items() if k not in MAC_KEYS)
        elems = sum(acts.values())
        shape = (n, *call.output_shape[1:]) if call.output_shape else ()
        layers.append(LayerRecord(
            name=call.name or "(model)", type=type(call.module).__name__ if leaf else "+".join(ops) or "functional",
            kind=kind, label=label, depth=call.depth, call_path=call.path, output_shape=shape, params=params,
            bias_params=bias, macs=int(macs) * n, flops=int(2 * macs + other) * n, activation_elems=int(elems) * n,
            activation_bytes=int(elems) * n * size, uncounted_ops=tuple(missing)))

    where: dict[str, list] = {}
    counts: Counter = Counter()
    for row in layers:
        for op in row.uncounted_ops:
            where.setdefault(op, []).append(row.name)
    for name_, missing in unsupported.items():
        if name_ == "":
            counts.update(missing)
    all_params = sum(p.numel() for p in model.parameters())
    used = sum(r.params for r in layers)
    totals = Totals(params=used, bias_params=sum(r.bias_params for r in layers), param_bytes=used * size,
                    macs=sum(r.macs for r in layers), flops=sum(r.flops for r in layers),
                    activation_elems=sum(r.activation_elems for r in layers),
                    activation_bytes=sum(r.activation_bytes for r in layers))
    call_records = tuple(CallRecord(id=c.id, name=c.name, type=type(c.module).__name__, depth=c.depth,
                                    parent=c.parent, output_shape=(n, *c.output_shape[1:]) if c.output_shape else ())
                         for c in calls)
    return Profile(model=name, input_shape=tuple(input_shape), dtype=dtype_name(dtype), element_size=size,
                   engine="fvcore", layers=tuple(layers), totals=totals, calls=call_records,
                   uncounted_ops=tuple(UncountedOp(op=op, count=counts[op] * n, layers=tuple(dict.fromkeys(w)))
                                       for op, w in where.items()),
                   unused_params=all_params - used, conventions=CONVENTIONS)


def profile_fvcore(model, input_size=None, *, batch: Optional[int] = None, dtype="float32",
                   kwargs: Optional[dict] = None) -> Profile:
    """``cnnprofile.profile(..., engine="fvcore")``: a model spec or an ``nn.Module``."""
    dtype = parse_dtype(dtype) if isinstance(dtype, str) else dtype
    module, shape, name = module_and_shape(model, input_size, batch, kwargs, device="cpu")
    return profile_model_fvcore(module, shape, dtype, name=name)
