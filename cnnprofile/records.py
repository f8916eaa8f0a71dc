"""Plain records produced by the analyzer. Computation fills them; formatting only reads them."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Optional


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
    kind: str  # "input", "conv", "pool", "fc", "functional" or "other"
    label: str  # lecture-style label, e.g. "CONV3-64", "POOL2", "FC-4096"
    depth: int
    call_path: tuple  # call ids from the model down to the owning call
    output_shape: tuple
    params: int
    bias_params: int
    macs: int
    flops: int
    activation_elems: int
    activation_bytes: int
    uncounted_ops: tuple = ()  # aten op names in this row that have no formula


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

        from .views import LAYER_COLUMNS

        return pd.DataFrame([{c: getattr(r, c) for c in LAYER_COLUMNS} for r in self.layers], columns=LAYER_COLUMNS)
