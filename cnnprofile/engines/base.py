"""What every engine shares: the interface, the module-call hooks, the input row, the profile assembly, the
error wording and the guard that leaves the user's module as it was.

An engine counts an ``nn.Module`` for one input shape and dtype and returns a ``Profile`` of the same records
as every other engine; ``cnnprofile.profile`` resolves a spec and hands the module to the chosen engine.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Callable, Iterator, Optional

import torch
from torch import nn

from ..errors import TraceError, first_line
from ..inputs import dtype_name
from ..outputs import main_shape
from ..records import CallRecord, Conventions, LayerRecord, Profile, Totals


class Engine(ABC):
    """Counts a module's layers; ``formulas`` maps op names to extra or replacing formulas for this call."""

    name: str = ""
    build_device: str = "meta"  # where a named model is built for this engine

    @abstractmethod
    def count(self, module: nn.Module, input_shape, *, dtype: torch.dtype, name: str,
              formulas: Optional[dict] = None) -> Profile:
        """The profile of ``module`` for ``input_shape`` (one shape, or ``cnnprofile.inputs.Inputs`` for an
        engine that takes several inputs); ``module`` is left exactly as it was."""


# --- the module calls of a forward pass ---------------------------------------------------------------------

@dataclass
class Call:
    id: int
    module: nn.Module
    name: str  # qualified name; "" for the model itself
    parent: Optional[int]
    depth: int
    path: tuple  # call ids from the model down to this call
    output_shape: tuple = ()
    children: int = 0


def output_shape(value) -> tuple:
    """The shape of the main output of a module: the first tensor of a tensor, nested tuples/lists/dicts of
    them or a dataclass (``cnnprofile.outputs``)."""
    return main_shape(value)


class ModelRaised(Exception):
    """The model's forward raised; carries the module call that was running."""

    def __init__(self, call: Optional[Call], error: BaseException):
        super().__init__(str(error))
        self.call = call
        self.error = error


class CallLog:
    """Forward hooks on every module that keep the stack of module calls in progress.

    ``on_start``/``on_end`` are told about each call as it begins and ends, so an engine can interleave calls
    with what else it records (the meta engine's op events).
    """

    def __init__(self, model: nn.Module, on_start: Callable[[Call], None] = lambda call: None,
                 on_end: Callable[[Call], None] = lambda call: None):
        self.model = model
        self.calls: list[Call] = []
        self.stack: list[Call] = []
        self._names = {id(m): n for n, m in model.named_modules()}
        self._on_start, self._on_end = on_start, on_end

    def _pre(self, module, args):
        parent = self.stack[-1] if self.stack else None
        call = Call(id=len(self.calls), module=module, name=self._names.get(id(module), "?"),
                    parent=parent.id if parent else None, depth=parent.depth + 1 if parent else 0,
                    path=(parent.path if parent else ()) + (len(self.calls),))
        if parent is not None:
            parent.children += 1
        self.calls.append(call)
        self.stack.append(call)
        self._on_start(call)

    def _post(self, module, args, output):
        call = self.stack.pop()
        call.output_shape = output_shape(output)
        self._on_end(call)

    @contextmanager
    def hooked(self) -> Iterator["CallLog"]:
        """Hooks installed for the duration; an exception from the model becomes ``ModelRaised``."""
        handles = [h for m in self.model.modules()
                   for h in (m.register_forward_pre_hook(self._pre), m.register_forward_hook(self._post))]
        try:
            yield self
        except Exception as error:  # the model's own code raised: report where
            raise ModelRaised(self.stack[-1] if self.stack else None, error) from error
        finally:
            for h in handles:
                h.remove()


# --- the user's module is left as it was ------------------------------------------------------------------

_HOOK_DICTS = ("_forward_hooks", "_forward_pre_hooks", "_forward_hooks_with_kwargs", "_forward_hooks_always_called",
               "_forward_pre_hooks_with_kwargs", "_backward_hooks", "_backward_pre_hooks")


@contextmanager
def left_as_found(model: nn.Module) -> Iterator[nn.Module]:
    """``model`` in eval mode for the duration; afterwards, returned or raised, every submodule's own training
    flag is restored and every hook added meanwhile is removed (fvcore leaves its scope hooks behind when the
    forward pass raises)."""
    modes = {m: m.training for m in model.modules()}
    hooks = {(m, d): set(getattr(m, d)) for m in model.modules() for d in _HOOK_DICTS if hasattr(m, d)}
    model.eval()
    try:
        yield model
    finally:
        for m, mode in modes.items():
            m.train(mode)
        for (m, d), keys in hooks.items():
            added = [k for k in getattr(m, d) if k not in keys]
            for k in added:
                del getattr(m, d)[k]


# --- errors ------------------------------------------------------------------------------------------------

_DATA_DEPENDENT = ("; its shapes depend on the data, which the meta device cannot know: profile it with "
                   "engine 'real' (--engine real)")


def cannot_run(name: str, input_shape, raised: ModelRaised, engine: str = "", suggest_real: bool = False) -> TraceError:
    """The one-line error for a model that cannot run on its input, naming the input and the layer that failed.

    ``input_shape`` is a shape or ``Inputs``. On the meta device an op whose output shape depends on values
    (``nonzero``: detection's box selection) fails; the error then points at the real engine.
    """
    call = raised.call
    where = (f"layer '{call.name or '(model)'}' ({type(call.module).__name__}) failed" if call is not None
             else "the forward pass failed")
    with_engine = f" with {engine}" if engine else ""
    shown = input_shape.text() if hasattr(input_shape, "text") else "x".join(map(str, input_shape))
    reason = first_line(raised.error)
    data_dependent = suggest_real and any(key in reason for key in ("meta", "data-dependent", "nonzero"))
    return TraceError(f"{name} cannot run on input {shown}{with_engine}: {where}: {reason}"
                      + (_DATA_DEPENDENT if data_dependent else ""))


# --- rows and the profile --------------------------------------------------------------------------------

_POOLS = {nn.modules.pooling._MaxPoolNd: "max", nn.modules.pooling._AvgPoolNd: "avg",
          nn.modules.pooling._LPPoolNd: "avg", nn.modules.pooling._AdaptiveAvgPoolNd: "adaptive-avg",
          nn.modules.pooling._AdaptiveMaxPoolNd: "adaptive-max"}


def _tuple(value) -> tuple:
    return tuple(value) if isinstance(value, (tuple, list)) else (value,)


def anatomy(module: nn.Module) -> dict:
    """The kind of a torch module and the plain facts the lecture's label is made of (``LayerRecord`` fields):
    conv, pool and fc layers anchor the lecture's rows; anything else is "other"."""
    if isinstance(module, nn.modules.conv._ConvNd):
        return dict(kind="conv", kernel_size=_tuple(module.kernel_size), out_features=module.out_channels,
                    variant="transposed" if module.transposed else "")
    for base, variant in _POOLS.items():
        if isinstance(module, base):
            kernel = () if variant.startswith("adaptive") else _tuple(module.kernel_size)
            return dict(kind="pool", kernel_size=kernel, variant=variant)
    if isinstance(module, nn.Linear):
        return dict(kind="fc", out_features=module.out_features)
    return dict(kind="other")


def input_row(input_shape: tuple, activation_elems: int, activation_bytes: int) -> LayerRecord:
    return LayerRecord(name="input", type="Input", kind="input", depth=0, call_path=(),
                       output_shape=tuple(input_shape), params=0, bias_params=0, macs=0, flops=0,
                       activation_elems=activation_elems, activation_bytes=activation_bytes)


def call_records(calls: list, batch: Optional[int] = None) -> tuple:
    """``CallRecord``s of ``calls``; ``batch`` replaces the leading dimension of the shapes (counted at 1)."""
    def shape(s):
        return (batch, *s[1:]) if batch is not None and s else tuple(s)

    return tuple(CallRecord(id=c.id, name=c.name, type=type(c.module).__name__, depth=c.depth, parent=c.parent,
                            output_shape=shape(c.output_shape)) for c in calls)


def assemble(*, name: str, engine: str, input_shape: tuple, dtype: torch.dtype, layers: list, calls: tuple,
             param_bytes: int, all_params: int, uncounted_ops: tuple,
             conventions: Optional[Conventions] = None, inputs: tuple = (), output_shapes: tuple = (),
             engine_note: str = "") -> Profile:
    """The ``Profile`` of ``layers``: the totals are the rows' sums, and parameters no row holds are unused."""
    params = sum(r.params for r in layers)
    totals = Totals(params=params, bias_params=sum(r.bias_params for r in layers), param_bytes=param_bytes,
                    macs=sum(r.macs for r in layers), flops=sum(r.flops for r in layers),
                    activation_elems=sum(r.activation_elems for r in layers),
                    activation_bytes=sum(r.activation_bytes for r in layers))
    return Profile(model=name, input_shape=tuple(input_shape), dtype=dtype_name(dtype),
                   element_size=torch.empty((), dtype=dtype).element_size(), engine=engine, layers=tuple(layers),
                   totals=totals, calls=calls, uncounted_ops=uncounted_ops, unused_params=all_params - params,
                   conventions=conventions or Conventions(), inputs=inputs, output_shapes=output_shapes,
                   engine_note=engine_note)
