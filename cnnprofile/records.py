"""Plain records produced by the engines. Computation fills them; formatting only reads them.

Each record owns its schema: tables, CSV, JSON and data frames take their columns from the dataclass fields.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Literal, Optional

# What a row is: the lecture's anchors (input, conv, pool, fc), a run of functional ops in a parent's forward
# ("functional"), any other leaf module ("other"), or a module rolled up by the depth view ("block").
Kind = Literal["input", "conv", "pool", "fc", "functional", "other", "block"]
KINDS: tuple = Kind.__args__
# The flavour of a torch convolution or pooling layer, where the kind alone does not say it.
Variant = Literal["", "transposed", "max", "avg", "adaptive-max", "adaptive-avg"]


@dataclass(frozen=True)
class Conventions:
    """What every number means; printed with every table so no figure is ambiguous."""

    macs: str = ("MACs = multiply-accumulates of convolutions and matrix products (the lecture's 'flops'); "
                 "bias additions are not MACs")
    flops: str = ("FLOPs = 2 x MACs + 1 per bias addition + the per-element costs of other arithmetic ops "
                  "(elementwise, activation, pooling, normalisation, softmax) from the formula registry; "
                  "data movement (views, cat, copies, padding) costs 0")
    params: str = ("parameters include biases and normalisation affine weights; buffers (running statistics) "
                   "are not parameters")
    memory: str = ("activation memory = every tensor an operator creates during one forward pass, the input "
                   "included, at the given batch size and dtype; views and in-place results allocate nothing. "
                   "It is the total written, not the peak alive. Parameter memory = parameters x element size")
    units: str = "K = 10^3, M = 10^6, G = 10^9; kB/MB/GB are decimal"


@dataclass(frozen=True)
class CallRecord:
    """One invocation of a module during the traced forward pass (a module called twice has two)."""

    id: int
    name: str  # qualified name; "" for the model itself
    type: str
    depth: int
    parent: Optional[int]
    output_shape: tuple


@dataclass(frozen=True)
class LayerRecord:
    """The finest row: a leaf module call, or a run of functional ops in a parent's ``forward``."""

    name: str
    type: str
    kind: Kind
    depth: int
    call_path: tuple = field(metadata={"column": False})  # call ids from the model down to the owning call
    output_shape: tuple
    params: int
    bias_params: int
    macs: int
    flops: int
    activation_elems: int
    activation_bytes: int
    uncounted_ops: tuple = ()  # aten op names in this row that have no formula
    # The anatomy of a torch conv, pool or linear layer (left empty for anything else), from which the
    # lecture's labels ("CONV3-64", "POOL2", "FC-4096") are made where rows are presented.
    kernel_size: tuple = ()
    out_features: int = 0  # output channels of a convolution, output features of a linear layer
    variant: Variant = ""


@dataclass(frozen=True)
class UncountedOp:
    op: str
    count: int
    layers: tuple  # names of the rows where it ran


@dataclass(frozen=True)
class Totals:
    params: int
    bias_params: int
    param_bytes: int
    macs: int
    flops: int
    activation_elems: int
    activation_bytes: int


@dataclass(frozen=True)
class Profile:
    model: str
    input_shape: tuple
    dtype: str
    element_size: int  # bytes per element of ``dtype``
    engine: str
    layers: tuple  # of LayerRecord, finest granularity, in execution order
    totals: Totals
    calls: tuple = ()  # of CallRecord
    uncounted_ops: tuple = ()  # of UncountedOp
    unused_params: int = 0  # parameters no op reads (e.g. GoogLeNet's auxiliary classifiers in eval)
    conventions: Conventions = field(default_factory=Conventions)

    def to_dict(self) -> dict:
        return asdict(self)

    def to_dataframe(self):
        import pandas as pd

        columns = layer_columns()
        return pd.DataFrame([{c: getattr(r, c) for c in columns} for r in self.layers], columns=columns)


def layer_columns() -> list:
    """The columns of a layer table in CSV, JSON and data frames: the fields of ``LayerRecord``, minus those
    marked as internal links (the call path into ``Profile.calls``)."""
    return [f.name for f in fields(LayerRecord) if f.metadata.get("column", True)]
