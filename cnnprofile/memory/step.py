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
from typing import Optional

import torch
from torch import nn
from torch.utils._pytree import tree_leaves

from .. import formulas_backward  # noqa: F401  (registers the backward ops' formulas)
from ..formulas import cost_of
from .amp import autocast_emulation
from .optimizers import make_optimizer
from .targets import Target
from .tracker import StorageTracker

_LAYER = "cnnprofile_layer"  # key in an autograd node's metadata: the layer whose forward created it
LOSS = "(loss)"
MODEL = "(model)"


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
    layers: dict  # layer name -> LayerCost, in order of first appearance
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
    for t in tree_leaves(out):
        if isinstance(t, torch.Tensor):
            return t
    raise TypeError("the model returned no tensor")


def loss_of(out, target: Optional[torch.Tensor]) -> torch.Tensor:
    """Cross-entropy for classifier logits (N, classes) with integer targets; the sum of the output otherwise."""
    logits = _first_tensor(out)
    if target is not None and logits.dim() == 2:
        return nn.functional.cross_entropy(logits, target)
    return logits.sum()


def _tag_graph(root, name: str) -> None:
    """Give every autograd node reachable from ``root`` and not yet claimed by an inner layer to ``name``."""
    stack = [root] if root is not None else []
    while stack:
        node = stack.pop()
        if node is None or _LAYER in node.metadata:
            continue
        node.metadata[_LAYER] = name
        stack.extend(n for n, _ in node.next_functions)


class _Layers:
    """The module-call stack during forward; the executing autograd node's layer during backward."""

    def __init__(self, model: nn.Module, tag: bool):
        self.stack: list = []
        self.names = {id(m): n for n, m in model.named_modules(remove_duplicate=False)}
        self.tag = tag
        self.model = model
        self.handles: list = []

    def __enter__(self):
        for m in self.model.modules():
            self.handles.append(m.register_forward_pre_hook(self._pre))
            self.handles.append(m.register_forward_hook(self._post))
        return self

    def __exit__(self, *exc):
        for h in self.handles:
            h.remove()

    def _pre(self, module, args):
        self.stack.append(self.names.get(id(module)) or MODEL)

    def _post(self, module, args, output):
        name = self.stack.pop()
        if self.tag:
            for t in tree_leaves(output):
                if isinstance(t, torch.Tensor):
                    _tag_graph(t.grad_fn, name)

    def current(self) -> str:
        if self.stack:
            return self.stack[-1]
        node = torch._C._current_autograd_node()
        if node is not None:
            return node.metadata.get(_LAYER, LOSS)
        return LOSS


def _meta(t: torch.Tensor, dtype: Optional[torch.dtype]) -> torch.Tensor:
    keep = dtype is None or not t.is_floating_point()
    return torch.empty(t.shape, dtype=t.dtype if keep else dtype, device="meta")


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
    costs: dict = defaultdict(LayerCost)
    uncounted: dict = defaultdict(set)
    ops_seen: dict = defaultdict(set)
    tracker = StorageTracker(layers.current, round_to=target.round_to)
    for n, p in params.items():
        tracker.adopt(p, "weights", n)
    for n, b in buffers.items():
        tracker.adopt(b, "buffers", n)
    tracker.adopt(x, "input", "input")
    if labels is not None:
        tracker.adopt(labels, "input", "input")

    def on_op(func, args, kwargs, out):
        phase = tracker.phase
        if phase not in ("forward", "backward"):
            return
        name = str(func.overloadpacket)
        ops_seen[phase].add(name)
        if phase == "forward" and name == "aten.convolution" and target.conv_workspace_ratio:
            weight = args[1]
            if weight.shape[2:].numel() > 1:
                tracker.transient(int(target.conv_workspace_ratio * out.untyped_storage().nbytes()), layers.current())
        cost = cost_of(name, args, kwargs, out)
        row = costs[layers.current()]
        if cost is None:
            uncounted[(phase, name)].add(layers.current())
        elif phase == "forward":
            row.forward_macs += cost.macs
            row.forward_flops += cost.flops
        else:
            row.backward_macs += cost.macs
            row.backward_flops += cost.flops

    tracker.on_op = on_op
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

    def pack(t):
        key = tracker.key_of(t) if t.device.type == "meta" else None
        if key is not None and key in tracker.blocks and tracker.blocks[key].category == "activations":
            saved[key] = tracker.blocks[key]
        return t

    modes = {m: m.training for m in model.modules()}
    model.train(train)
    amp_ctx = autocast_emulation(target.name, amp) if amp is not None else contextlib.nullcontext()
    try:
        with tracker, layers:
            tracker.phase = "forward"
            grad = torch.enable_grad() if train else torch.no_grad()
            hooks = torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t) if train else contextlib.nullcontext()
            with grad, hooks:
                with amp_ctx:
                    out = torch.func.functional_call(model, {**params, **buffers}, (x,))
                    loss = loss_of(out, labels) if train else None
                if train:
                    _tag_graph(loss.grad_fn, LOSS)
            saved_bytes = sum(b.nbytes for b in saved.values())
            for b in saved.values():
                costs[b.layer].saved_bytes += b.nbytes
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
    finally:
        for m, mode in modes.items():
            m.train(mode)

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
