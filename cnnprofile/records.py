"""Plain records produced by the engines. Computation fills them; formatting only reads them.

Each record owns its schema: tables, CSV, JSON and data frames take their columns from the dataclass fields.

Optional columns: a ``LayerRecord`` field declared with ``extra(group, merge)`` defaults to None and is a column
only of profiles enriched with its group (``Profile.groups``; see ``analyses.enrich``). ``merge`` names the rule
by which a view rolls several rows into one (``views.MERGE_RULES``): "sum", "last" (the last row's value: a
merged row's receptive field is that of its last op's output, passing over rows that neither compute nor
write, such as a flatten folded into a pooling row), "intensity" (recomputed from the summed FLOPs
and bytes) or "dominant" (the roofline bound that accounts for most of the summed least time).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Literal, Optional, Union

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
    # Stated only by profiles enriched with these columns (empty otherwise, and then not shown).
    receptive_field: str = ""
    intensity: str = ""
    roofline: str = ""
    predicted: str = ""
    training: str = ""

    def stated(self) -> dict:
        """{name: text} of the conventions that apply (the empty ones left out)."""
        return {k: v for k, v in asdict(self).items() if v}


def extra(group: str, merge: str):
    """An optional per-row column of ``group``, None until an enrichment fills it; views merge it by ``merge``."""
    return field(default=None, metadata={"group": group, "merge": merge})


# An axis-wise figure: one number when all spatial axes agree, a tuple per axis otherwise.
PerAxis = Union[int, float, tuple, None]


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
    # --- optional columns (see the module docstring) ---
    # Receptive field of the row's output (analyses.receptive): None with ``whole_input`` True where the unit
    # sees the entire input (fully connected, global pooling); None with ``rf_unknown_ops`` where an op has no rule.
    receptive_field: PerAxis = extra("rf", "last")
    effective_stride: PerAxis = extra("rf", "last")
    effective_padding: PerAxis = extra("rf", "last")
    whole_input: Optional[bool] = extra("rf", "last")
    rf_aligned: Optional[bool] = extra("rf", "last")  # False where merged branches have different grids
    rf_unknown_ops: Optional[tuple] = extra("rf", "last")
    # Memory traffic (cnnprofile.analyses.roofline): an ideal cache, every operand read once per op.
    bytes_read: Optional[int] = extra("intensity", "sum")
    bytes_written: Optional[int] = extra("intensity", "sum")
    arithmetic_intensity: Optional[float] = extra("intensity", "intensity")  # FLOPs per byte moved
    # The roofline bound on a device (Profile.device).
    bound: Optional[str] = extra("roofline", "dominant")  # "compute", "memory" or "none"
    least_time_s: Optional[float] = extra("roofline", "sum")
    # The predicted time of this row's kernels on a device (cnnprofile.predict; Profile.predicted).
    predicted_s: Optional[float] = extra("predicted", "sum")
    # One training step (cnnprofile.analyses.memory.columns): the backward of the autograd nodes this row's forward
    # created, and the bytes autograd saves for backward of the tensors this row produced.
    backward_macs: Optional[int] = extra("train", "sum")
    backward_flops: Optional[int] = extra("train", "sum")
    saved_bytes: Optional[int] = extra("train", "sum")


def arithmetic_intensity(flops: int, bytes_read: int, bytes_written: int) -> Optional[float]:
    """FLOPs per byte moved; None where nothing moves."""
    moved = bytes_read + bytes_written
    return flops / moved if moved else None


@dataclass(frozen=True)
class DeviceRoof:
    """The device a profile's roofline columns are computed for."""

    name: str
    precision: str
    peak_tflops: float
    bandwidth_gbs: float
    ridge: float  # FLOPs per byte where the compute and memory roofs meet
    sources: tuple  # of the peak and of the bandwidth


@dataclass(frozen=True)
class PredictedOn:
    """The device, precision and calibration a profile's predicted-time column is for."""

    device: str  # the device key
    device_name: str
    step: str  # the precision ("fp32+tf32", "amp-fp16")
    calibration: str  # where the calibration comes from (a file, shipped, transferred)
    calibration_error: Optional[float]  # its fit's median |error| on the rows it was fitted on


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
    # Sums of the optional columns, set with them (None otherwise).
    bytes_read: Optional[int] = extra("intensity", "sum")
    bytes_written: Optional[int] = extra("intensity", "sum")
    arithmetic_intensity: Optional[float] = extra("intensity", "intensity")
    least_time_s: Optional[float] = extra("roofline", "sum")  # a lower bound on the latency of this batch
    predicted_s: Optional[float] = extra("predicted", "sum")  # the predicted latency of one pass of this batch
    backward_macs: Optional[int] = extra("train", "sum")  # of the rows: the loss is ``TrainingStep.loss``
    backward_flops: Optional[int] = extra("train", "sum")
    saved_bytes: Optional[int] = extra("train", "sum")


@dataclass(frozen=True)
class StepCosts:
    forward_macs: int = 0
    forward_flops: int = 0
    backward_macs: int = 0
    backward_flops: int = 0
    saved_bytes: int = 0


@dataclass(frozen=True)
class TrainingStep:
    """The training step a profile's "train" columns come from. ``step`` is the whole step's figures
    (``cnnprofile.memory(..., train=True)``'s); it is the rows' sums (``Totals``) + ``loss`` + ``unmatched``."""

    optimizer: str
    trainable_params: int
    frozen_params: int
    step: StepCosts
    loss: StepCosts  # the loss: not a row of the table
    unmatched: StepCosts = field(default_factory=StepCosts)  # module calls the inference pass does not make
    unmatched_layers: tuple = ()  # their names (GoogLeNet's auxiliary heads in training)

    @property
    def backward_forward_ratio(self) -> Optional[float]:
        return self.step.backward_macs / self.step.forward_macs if self.step.forward_macs else None


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
    inputs: tuple = ()  # of (name, shape, dtype) for every input tensor; ``input_shape`` is the first's
    output_shapes: tuple = ()  # of (path, shape) for every output tensor ('out', 'aux', '0.boxes'; '' alone)
    engine_note: str = ""  # why this engine ran (e.g. detection's data-dependent shapes need a real run)
    channels_last: bool = False  # shapes are N x H x W x C (a Keras model), not N x C x H x W
    conventions: Conventions = field(default_factory=Conventions)
    groups: tuple = ()  # the optional column groups filled in ("rf", "intensity", "roofline", "train")
    device: Optional[DeviceRoof] = None  # with the "roofline" group
    predicted: Optional["PredictedOn"] = None  # with the "predicted" group
    training: Optional[TrainingStep] = None  # with the "train" group

    def to_dict(self) -> dict:
        return asdict(self)

    def to_dataframe(self):
        import pandas as pd

        columns = layer_columns(self.groups)
        return pd.DataFrame([{c: getattr(r, c) for c in columns} for r in self.layers], columns=columns)


def layer_columns(groups: tuple = ()) -> list:
    """The columns of a layer table in CSV, JSON and data frames: the fields of ``LayerRecord``, minus those
    marked as internal links (the call path into ``Profile.calls``) and optional ones not in ``groups``."""
    return [f.name for f in fields(LayerRecord)
            if f.metadata.get("column", True) and f.metadata.get("group", None) in (None, *groups)]


def shown(record, groups: tuple) -> dict:
    """``record`` (``Totals``) as a dict, with the optional fields of ``groups`` only."""
    return {f.name: getattr(record, f.name) for f in fields(record)
            if f.metadata.get("group", None) in (None, *groups)}


def group_fields(record_type, group: str) -> list:
    """The optional fields of ``group`` in ``record_type`` (``LayerRecord`` or ``Totals``)."""
    return [f.name for f in fields(record_type) if f.metadata.get("group") == group]


def merge_rules(record_type=None) -> dict:
    """{field: merge rule} of every optional field of ``record_type`` (default ``LayerRecord``)."""
    return {f.name: f.metadata["merge"] for f in fields(record_type or LayerRecord) if "merge" in f.metadata}
