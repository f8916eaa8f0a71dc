"""What every engine shares: the interface, the input row, the profile assembly and the error wording. (The
module-call hooks and the guard that leaves the user's module as it was live with the recorder, ``record/``.)

An engine counts an ``nn.Module`` for one input shape and dtype and returns a ``Profile`` of the same records
as every other engine; ``cnnprofile.profile`` resolves a spec and hands the module to the chosen engine.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Optional

import torch
from torch import nn

from ..inputs import dtype_name
from ..records import CallRecord, Conventions, LayerRecord, Profile, Totals


class Engine(ABC):
    """Counts a module's layers; ``formulas`` maps op names to extra or replacing formulas for this call."""

    name: str = ""
    build_device: str = "meta"  # where a named model is built for this engine
    # True: the engine counts a recording of ours (``trace`` then ``profile_of``), which every other analysis of
    # the model can read too; False: it counts with a pass of its own (fvcore).
    records: bool = False

    @abstractmethod
    def count(self, module: nn.Module, input_shape, *, dtype: torch.dtype, name: str,
              formulas: Optional[dict] = None) -> Profile:
        """The profile of ``module`` for ``input_shape`` (one shape, or ``cnnprofile.inputs.Inputs`` for an
        engine that takes several inputs); ``module`` is left exactly as it was."""


# --- rows and the profile --------------------------------------------------------------------------------

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


__all__ = ["Engine", "assemble", "call_records", "input_row"]
