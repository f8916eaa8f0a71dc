"""The meta engine: record one forward pass on the meta device (``cnnprofile.record``) and count its rows
(``cnnprofile.analyses.counts``).

No weights and no activations are allocated: parameters and buffers are swapped for meta tensors with
``torch.func.functional_call`` (a module already on meta in the profiled dtype runs with its own), so profiling
at batch 256 costs what it costs at batch 1, and the user's module is left untouched.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Optional

import torch
from torch import nn

from ..analyses.counts import counted_rows, layer_record, op_costs, uncounted_ops
from ..inputs import dtype_name
from ..outputs import output_shapes
from ..record.run import Traced, record_module
from ..records import LayerRecord, Profile
from .base import Engine, assemble, call_records, input_row


class MetaEngine(Engine):
    """Our formula registry over the ATen ops of one forward pass on the meta device."""

    name = "meta"
    device = "meta"  # where the inputs and the stand-ins for the weights live
    records = True

    def trace(self, module: nn.Module, input_shape, *, dtype: torch.dtype, name: str, note: str = "",
              lifetimes: bool = False) -> Traced:
        """Record one forward pass of ``module`` (left exactly as it was, returned or raised); ``lifetimes``
        logs its storages' lifetimes too, on the meta device (``record_module``)."""
        return record_module(module, input_shape, dtype=dtype, name=name, device=self.device, engine=self.name,
                             note=note, lifetimes=lifetimes)

    def profile_of(self, traced: Traced, formulas: Optional[dict] = None, costs: Optional[list] = None) -> Profile:
        """The layer rows and totals of a recorded pass; ``costs`` (``counts.op_costs``) where already computed."""
        rec, inputs, dtype = traced.recording, traced.inputs, traced.dtype
        if costs is None:
            costs = op_costs(rec, formulas)
        rows = counted_rows(rec, costs)
        leaves = inputs.leaves()
        layers = [_input_row(key, len(leaves), t) for (key, _), t in zip(leaves, rec.inputs)]
        layers += [layer_record(r) for r in rows]
        return assemble(name=traced.name, engine=traced.engine, input_shape=inputs.main.shape, dtype=dtype,
                        layers=layers, calls=call_records(rec.calls), param_bytes=sum(r.param_bytes for r in rows),
                        all_params=sum(numel for _, numel, _ in rec.params.values()),
                        uncounted_ops=uncounted_ops(rows),
                        inputs=tuple((key, tuple(spec.shape), dtype_name(spec.dtype or dtype)) for key, spec in leaves),
                        output_shapes=output_shapes(rec.output) if rec.output is not None else (),
                        engine_note=traced.note)

    def count(self, module: nn.Module, input_shape, *, dtype: torch.dtype, name: str,
              formulas: Optional[dict] = None, note: str = "") -> Profile:
        return self.profile_of(self.trace(module, input_shape, dtype=dtype, name=name, note=note), formulas)


def _input_row(key: str, count: int, t: torch.Tensor) -> LayerRecord:
    row = input_row(tuple(t.shape), t.numel(), t.numel() * t.element_size())
    return row if count == 1 else replace(row, name=f"input.{key}")


ENGINE = MetaEngine()
