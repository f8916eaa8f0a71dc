"""The records a memory prediction produces. Computation fills them; ``render`` only reads them."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Optional

# The keys of ``--format json`` (the contract), in order; ``max_batch`` only with ``--fit``.
JSON_KEYS = ("peak_bytes", "weights_bytes", "buffers_bytes", "input_bytes", "gradients_bytes",
             "optimizer_state_bytes", "saved_activations_bytes", "activations_at_peak_bytes", "trainable_params",
             "frozen_params", "forward_macs", "backward_macs", "forward_flops", "backward_flops", "batch")


@dataclass(frozen=True)
class Definitions:
    """What every figure means; printed with every report."""

    inference_peak: str = ("inference peak = the largest total of bytes alive at any moment of one forward pass "
                           "under no_grad: weights, buffers and the input, plus every activation and temporary "
                           "while it is alive (freed when its last reference goes; views and in-place ops "
                           "allocate nothing)")
    training_step: str = ("training step (steady state) = weights, buffers, the input with its integer targets "
                          "and the optimizer's state exist before the step; the step is forward, loss "
                          "(cross-entropy for (N, classes) logits, else the output's sum), backward, optimizer "
                          "step, zero_grad(set_to_none=True); the output and the loss are released after backward")
    saved: str = ("saved activations = distinct storages autograd keeps for backward at the end of the forward pass "
                  "(weights and the input excluded), attributed to the layer that produced them")
    at_peak: str = "at peak = what is alive at the peak moment, grouped by kind and by the layer that produced it"
    backward: str = ("backward MACs/FLOPs = formulas for the backward ops actually dispatched: an input gradient "
                     "nobody needs (first layer, below frozen layers) is not computed and not counted")
    amp: str = ("--amp keeps float32 weights and applies autocast's casting rules for the target device; --dtype "
                "casts everything")
    units: str = "bytes are exact integers in JSON; kB/MB/GB = 10^3/10^6/10^9 bytes, KiB/MiB/GiB = 2^10/2^20/2^30"


@dataclass(frozen=True)
class PeakShare:
    category: str  # weights, buffers, input, gradients, optimizer_state, activations
    layer: str  # the module call (qualified name) that created it, or a phase in parentheses
    bytes: int


@dataclass(frozen=True)
class LayerCosts:
    """One module call (or one run of functional ops in a module's own forward): a row of the layer table."""

    name: str  # the module's qualified name, "(model)" for the model's own functional ops, "(loss)"
    forward_macs: int
    forward_flops: int
    backward_macs: int
    backward_flops: int
    saved_bytes: int
    call: int = 0  # which call of the module named ``name`` (0 = its first): a module called twice has two rows
    after: Optional[tuple] = None  # a functional run: (name, call) of the last child call started before it


@dataclass(frozen=True)
class MemoryReport:
    model: str
    input_shape: tuple
    dtype: str
    amp: Optional[str]
    device: str
    train: bool
    optimizer: str
    batch: int
    peak_bytes: int
    weights_bytes: int
    buffers_bytes: int
    input_bytes: int
    gradients_bytes: int
    optimizer_state_bytes: int
    saved_activations_bytes: int
    activations_at_peak_bytes: int
    trainable_params: int
    frozen_params: int
    forward_macs: int
    backward_macs: int
    forward_flops: int
    backward_flops: int
    workspace_bytes: int  # workspaces alive at the peak (persistent matmul ones, a convolution's, CPU column buffers)
    peak_phase: str  # forward, backward or optimizer
    peak_layer: str  # the layer whose allocation reached the peak
    at_peak: tuple  # of PeakShare, largest first
    layers: tuple  # of LayerCosts, in execution order
    uncounted_ops: tuple = ()  # ("phase", "aten.op", (layers...)) with no formula
    target_notes: tuple = ()
    max_batch: Optional[int] = None  # with fit: the largest batch whose peak fits
    fit_bytes: Optional[int] = None
    next_peak_bytes: Optional[int] = None  # with fit: the peak of max_batch + 1, which does not fit
    definitions: Definitions = field(default_factory=Definitions)

    @property
    def backward_forward_ratio(self) -> Optional[float]:
        return self.backward_macs / self.forward_macs if self.forward_macs else None

    def to_json_dict(self) -> dict:
        out = {k: getattr(self, k) for k in JSON_KEYS}
        if self.max_batch is not None:
            out["max_batch"] = self.max_batch
        return out

    def to_dict(self) -> dict:
        return asdict(self)
