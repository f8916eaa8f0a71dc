"""A model's kernels as arrays, at any batch and element size: what the time model reads.

One meta recording at one batch serves every batch: FLOPs and activation bytes grow with the batch, parameter
bytes do not (``analyses.kernels``). The arrays are what a calibration is fitted on and what a prediction sums.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..analyses.kernels import CLASSES, Kernels, kernels_of

_INDEX = {c: i for i, c in enumerate(CLASSES)}


@dataclass(frozen=True)
class KernelArrays:
    """Per kernel (numpy arrays of one length), at ``batch`` and 4-byte (float32) elements."""

    name: str
    input_shape: tuple  # without the batch
    batch: int
    cls: np.ndarray  # int8 index into ``analyses.kernels.CLASSES``
    flops: np.ndarray
    act_bytes: np.ndarray
    param_bytes: np.ndarray
    reduction: np.ndarray
    width: np.ndarray
    row: np.ndarray  # the layer row of each kernel (``rows``)
    rows: tuple  # layer row names
    param_tensors: int
    param_total_bytes: int
    uncounted: int  # kernels without a FLOP formula (their FLOPs count as 0, their bytes are moved)

    def at(self, batch: int) -> "KernelArrays":
        """The same kernels at another batch."""
        if batch == self.batch:
            return self
        f = batch / self.batch
        return KernelArrays(self.name, self.input_shape, batch, self.cls, self.flops * f, self.act_bytes * f,
                            self.param_bytes, self.reduction, self.width, self.row, self.rows,
                            self.param_tensors, self.param_total_bytes, self.uncounted)

    def save(self, path) -> None:
        np.savez_compressed(path, cls=self.cls, flops=self.flops, act_bytes=self.act_bytes,
                            param_bytes=self.param_bytes, reduction=self.reduction, width=self.width, row=self.row,
                            meta=np.array([self.name, repr(tuple(self.input_shape)), str(self.batch),
                                           str(self.param_tensors), str(self.param_total_bytes),
                                           str(self.uncounted)]),
                            rows=np.array(self.rows, dtype=object) if self.rows else np.array([], dtype=object))

    @staticmethod
    def load(path) -> "KernelArrays":
        import ast

        z = np.load(path, allow_pickle=True)
        name, shape, batch, tensors, total, uncounted = (str(x) for x in z["meta"])
        return KernelArrays(name, ast.literal_eval(shape), int(batch), z["cls"], z["flops"], z["act_bytes"],
                            z["param_bytes"], z["reduction"], z["width"], z["row"], tuple(z["rows"]),
                            int(tensors), int(total), int(uncounted))


def arrays_of(kernels: Kernels, name: str, input_shape: tuple, batch: int) -> KernelArrays:
    ks = kernels.kernels
    scale = 4 / kernels.element_size  # stored at float32 element size; the precision rescales
    return KernelArrays(
        name, tuple(input_shape), batch,
        np.array([_INDEX[k.cls] for k in ks], dtype=np.int8),
        np.array([k.flops for k in ks], dtype=np.float64),
        np.array([k.act_bytes for k in ks], dtype=np.float64) * scale,
        np.array([k.param_bytes for k in ks], dtype=np.float64) * scale,
        np.array([k.reduction for k in ks], dtype=np.float64),
        np.array([k.width for k in ks], dtype=np.float64),
        np.array([k.row for k in ks], dtype=np.int32),
        kernels.rows, kernels.param_tensors, int(kernels.param_bytes * scale), sum(k.uncounted for k in ks))


def model_arrays(model, input_size=None, *, batch: int = 1, kwargs: dict | None = None) -> KernelArrays:
    """Record ``model`` (a spec, a ``ModelSource`` or an ``nn.Module``, left as found) once on the meta device
    and return its kernels at ``batch``."""
    from ..record.run import traced

    return traced_arrays(traced(model, input_size, batch, kwargs))


def traced_arrays(t) -> KernelArrays:
    """The kernels of a recorded pass (``record.run.Traced``) at its batch."""
    shape = t.inputs.main.shape
    return arrays_of(kernels_of(t.recording), t.name, tuple(shape[1:]), shape[0])


__all__ = ["KernelArrays", "arrays_of", "model_arrays", "traced_arrays"]
