"""One step on the meta device, run for real: an inference pass, or a training step (forward, loss, backward,
optimizer step, ``zero_grad(set_to_none=True)``), with every storage's lifetime tracked.

The user's module is never changed: parameters and buffers are meta stand-ins handed to the forward with
``torch.func.functional_call``; forward hooks (removed afterwards) name the layer running; training mode is
restored on exit.
"""
from __future__ import annotations

import contextlib
from collections import defaultdict
from dataclasses import dataclass, field
from typing import NamedTuple, Optional

import torch
from torch import nn
from torch.utils._pytree import tree_leaves

from .. import formulas_backward  # noqa: F401  (registers the backward ops' formulas)
from ..formulas import cost_of
from ...dispatch.layout import channels_last_format
from ...outputs import main_tensor
from .amp import autocast_emulation
from .optimizers import make_optimizer
from .targets import Target
from ...record.collector import collector_paused
from ...record.guard import left_as_found
from ...record.recorder import recording
from ...record.storage import StorageTracker

_LAYER = "cnnprofile_layer"  # key in an autograd node's metadata: the unit whose forward created it
LOSS = "(loss)"
MODEL = "(model)"


class Unit(NamedTuple):
    """What costs are keyed by: one module call, or one run of functional ops in a module's own ``forward``.

    The layer table's rows are the same units (a leaf module call is a row; a run of ops in a non-leaf
    module's ``forward`` between two child calls is a row named after that module), so a module called twice
    (ResNet's shared ``relu``) has each call's costs on its own row instead of both on one name. ``call`` is the
    how-manieth call of the module named ``name`` (0 = first); ``after`` is, for a run of functional ops, the
    (name, call) of the last child call started before it in the same ``forward`` (None: before any child, or
    a leaf call). Names and counts rather than call ids, so that units still match the inference pass's rows
    when a training forward makes calls that the inference pass does not (GoogLeNet's auxiliary heads).
    """

    name: str
    call: int = 0
    after: Optional[tuple] = None


LOSS_UNIT = Unit(LOSS)


@dataclass
class LayerCost:
    forward_macs: int = 0
    forward_flops: int = 0
    backward_macs: int = 0
    backward_flops: int = 0
    saved_bytes: int = 0


@dataclass
class StepRun:
    tracker: StorageTracker
    layers: dict  # Unit -> LayerCost, in order of first appearance
    uncounted: dict  # (phase, op) -> set of layers
    saved_bytes: int
    weights_bytes: int
    buffers_bytes: int
    input_bytes: int
    gradients_bytes: int
    optimizer_state_bytes: int
    trainable_params: int
    frozen_params: int
    ops_seen: dict = field(default_factory=dict)  # phase -> names of the ops dispatched in it


def _first_tensor(out) -> torch.Tensor:
    t = main_tensor(out)  # the main output, as the layer table defines it
    if t is None:
        raise TypeError("the model returned no tensor")
    return t


def loss_of(out, target: Optional[torch.Tensor]) -> torch.Tensor:
    """Cross-entropy for classifier logits (N, classes) with integer targets; the sum of the output otherwise."""
    logits = _first_tensor(out)
    if target is not None and logits.dim() == 2:
        return nn.functional.cross_entropy(logits, target)
    return logits.sum()


def _tag_graph(root, unit: Unit) -> None:
    """Give every autograd node reachable from ``root`` and not yet claimed to ``unit``."""
    stack = [root] if root is not None else []
    while stack:
        node = stack.pop()
        if node is None or _LAYER in node.metadata:
            continue
        node.metadata[_LAYER] = unit
        stack.extend(n for n, _ in node.next_functions)


def _tag_outputs(value, unit: Unit) -> None:
    for t in tree_leaves(value):
        if isinstance(t, torch.Tensor):
            _tag_graph(t.grad_fn, unit)


class _Frame:
    """A module call in progress: its name (as the tracker reports it), its unit, and the last child started."""

    def __init__(self, name: str, unit: Unit):
        self.name, self.unit, self.last_child = name, unit, None

    def current(self) -> Unit:
        return self.unit if self.last_child is None else self.unit._replace(after=self.last_child)


class _Layers:
    """The module-call stack during forward; the executing autograd node's unit during backward.

    Autograd nodes are tagged with the unit that created them: when a module call starts, the nodes behind its
    arguments that nobody claimed yet go to the caller's current unit (the run of functional ops that computed
    them); when a call ends, the unclaimed nodes behind its output go to its own last unit. Inner calls end
    first, so each node goes to the innermost unit. A functional op whose result skips the next child call and
    is only used later (rare) is claimed by the unit that uses it.
    """

    def __init__(self, model: nn.Module, tag: bool):
        self.stack: list = []
        self.names = {id(m): n for n, m in model.named_modules(remove_duplicate=False)}
        # The layer table's names (the first of a module registered twice), so units match its rows.
        self.row_names = {id(m): n for n, m in model.named_modules()}
        self.calls: dict = defaultdict(int)  # name -> calls started so far
        self.tag = tag

    # A listener of the recorder's module calls (``recorder.recording(listeners=...)``).
    def start(self, call, args):
        module = call.module
        row_name = self.row_names.get(id(module)) or MODEL
        unit = Unit(row_name, self.calls[row_name])
        self.calls[row_name] += 1
        if self.stack:
            parent = self.stack[-1]
            if self.tag:
                _tag_outputs(args, parent.current())
            parent.last_child = (unit.name, unit.call)
        self.stack.append(_Frame(self.names.get(id(module)) or MODEL, unit))

    def end(self, call, output):
        frame = self.stack.pop()
        if self.tag:
            _tag_outputs(output, frame.current())

    def current(self) -> str:
        """The module call running now (its qualified name), for the tracker's blocks."""
        if self.stack:
            return self.stack[-1].name
        return self.unit().name

    def unit(self) -> Unit:
        if self.stack:
            return self.stack[-1].current()
        node = torch._C._current_autograd_node()
        if node is not None:
            return node.metadata.get(_LAYER, LOSS_UNIT)
        return LOSS_UNIT


def _meta(t: torch.Tensor, dtype: Optional[torch.dtype]) -> torch.Tensor:
    # in the parameter's own layout: a channels-last weight gets channels-last gradients, which a plain
    # stand-in would copy into its layout (AccumulateGrad matches the parameter's strides) where the real
    # step does not
    # (``empty_like`` would do, but to meta it runs torch's Python reference, which imports sympy)
    keep = dtype is None or not t.is_floating_point()
    return torch.empty(t.shape, dtype=t.dtype if keep else dtype, device="meta",
                       memory_format=channels_last_format(t) or torch.contiguous_format)


def _costs(rec) -> tuple:
    """Forward and backward MACs/FLOPs per unit, the ops with no formula, and the ops seen per phase, from the
    step's recording (each op tagged with its phase, unit and layer when it ran)."""
    costs: dict = defaultdict(LayerCost)
    uncounted: dict = defaultdict(set)
    ops_seen: dict = defaultdict(set)
    for node in rec.nodes:
        phase, unit, where = node.tag
        if phase not in ("forward", "backward"):
            continue
        ops_seen[phase].add(node.op)
        cost = cost_of(node.op, node.args, node.kwargs, node.out)
        row = costs[unit]
        if cost is None:
            uncounted[(phase, node.op)].add(where)
        elif phase == "forward":
            row.forward_macs += cost.macs
            row.forward_flops += cost.flops
        else:
            row.backward_macs += cost.macs
            row.backward_flops += cost.flops
    return costs, uncounted, ops_seen


@collector_paused()
def run_step(model: nn.Module, input_shape: tuple, *, dtype: torch.dtype, target: Target, train: bool,
             trainable: Optional[set] = None, optimizer: str = "none", amp: Optional[torch.dtype] = None) -> StepRun:
    """Track one step of ``model`` on a meta input of ``input_shape``.

    ``trainable``: the parameter names that get gradients (training only). With ``amp``, parameters and the
    input stay float32 and autocast's casting rules for ``target`` apply in the forward pass.
    """
    param_dtype = torch.float32 if amp is not None else dtype
    params = {n: _meta(p, param_dtype) for n, p in model.named_parameters()}
    buffers = {n: _meta(b, param_dtype) for n, b in model.named_buffers()}
    trainable = set(trainable or ()) if train else set()
    # Training: the trainable ones require grad. Inference: as the model has them (nothing is recorded under
    # no_grad, but autocast's weight cache keys on requires_grad, so it matters for --amp).
    own = {n: p.requires_grad for n, p in model.named_parameters()}
    for n, p in params.items():
        p.requires_grad_(n in trainable if train else own[n])
    x = torch.empty(input_shape, dtype=param_dtype, device="meta")
    labels = torch.empty(input_shape[0], dtype=torch.long, device="meta") if train else None

    layers = _Layers(model, tag=train)
    tracker = StorageTracker(layers.current, round_to=target.round_to, unit=layers.unit)
    for n, p in params.items():
        tracker.adopt(p, "weights", n)
    for n, b in buffers.items():
        tracker.adopt(b, "buffers", n)
    tracker.adopt(x, "input", "input")
    if labels is not None:
        tracker.adopt(labels, "input", "input")

    def workspace(func, args, kwargs, out):
        # A library workspace exists only while its kernel runs: a storage fact of that moment, so it is
        # observed as the op runs, not read from the recording afterwards.
        if tracker.phase == "forward" and func.overloadpacket is torch.ops.aten.convolution:
            nbytes = target.conv_workspace(args[1].shape, out.untyped_storage().nbytes())
            if nbytes:
                tracker.transient(nbytes, layers.current())
        if target.kernel_transients is not None and tracker.phase in ("forward", "backward"):
            nbytes = target.kernel_transients(func, args, out)
            if nbytes:
                tracker.transient(nbytes, layers.current())

    opt = make_optimizer(optimizer, [params[n] for n in params if n in trainable], target) if train else None
    if opt is not None:  # steady state: the optimizer's state exists before the measured step
        for p in opt.param_groups[0]["params"]:
            p.grad = torch.zeros_like(p)
        opt.step()
        opt.zero_grad(set_to_none=True)
        for state in opt.state.values():
            for t in state.values():
                tracker.adopt(t, "optimizer_state", "optimizer")

    saved: dict = {}
    saved_by_unit: dict = defaultdict(int)

    def pack(t):
        key = tracker.key_of(t) if t.device.type == "meta" else None
        if key is not None and key in tracker.blocks and tracker.blocks[key].category == "activations":
            saved[key] = tracker.blocks[key]
        return t

    amp_ctx = autocast_emulation(target.name, amp) if amp is not None else contextlib.nullcontext()
    with left_as_found(model, eval_mode=False):  # returned or raised, the model as it was found
        model.train(train)
        # The input's stand-in is made here, before the pass: made later (by the first module that returns its
        # input unchanged, a dropout in eval) it would be an allocation the tracker sees as an activation.
        with recording(model, inputs=(x,) if labels is None else (x, labels), stand_ins="all", grad=train,
                       observers=(tracker.observe, workspace),
                       listeners=(layers,), everywhere=True,
                       tag=lambda: (tracker.phase, layers.unit(), layers.current())) as rec:
            tracker.phase = "forward"
            hooks = torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t) if train else contextlib.nullcontext()
            with hooks:
                with amp_ctx:
                    out = torch.func.functional_call(model, {**params, **buffers}, (x,))
                    loss = loss_of(out, labels) if train else None
                if train:
                    _tag_graph(loss.grad_fn, LOSS_UNIT)
            saved_bytes = sum(b.nbytes for b in saved.values())
            for b in saved.values():
                saved_by_unit[b.unit] += b.nbytes
            saved.clear()
            if train:
                tracker.phase = "backward"
                loss.backward()
                del loss
            del out
            grads = 0
            for p in params.values():
                if p.grad is not None:
                    tracker.adopt(p.grad, "gradients", "gradients")
                    tracker.recategorize(p.grad, "gradients")
                    grads += tracker.rounded(p.grad.untyped_storage().nbytes())
            if opt is not None:
                tracker.phase = "optimizer"
                opt.step()
            tracker.phase = "after"
            if opt is not None:
                opt.zero_grad(set_to_none=True)
            for p in params.values():
                p.grad = None

    costs, uncounted, ops_seen = _costs(rec)
    for unit, nbytes in saved_by_unit.items():
        costs[unit].saved_bytes += nbytes

    def total(category):
        return sum(tracker.rounded(t.untyped_storage().nbytes()) for t in category)

    opt_state = [t for s in (opt.state.values() if opt else ()) for t in s.values()
                 if isinstance(t, torch.Tensor) and t.device.type == "meta"]
    n_train = sum(p.numel() for n, p in params.items() if n in trainable)
    return StepRun(
        tracker=tracker, layers=dict(costs), uncounted={k: tuple(sorted(v)) for k, v in uncounted.items()},
        saved_bytes=saved_bytes, weights_bytes=total(params.values()), buffers_bytes=total(buffers.values()),
        input_bytes=total([x] + ([labels] if labels is not None else [])), gradients_bytes=grads,
        optimizer_state_bytes=total(opt_state), trainable_params=n_train,
        frozen_params=sum(p.numel() for p in params.values()) - n_train, ops_seen=dict(ops_seen))
