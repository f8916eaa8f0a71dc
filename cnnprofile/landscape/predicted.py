"""Predicted latency of a store's rows on a named device: each row's stored kernels (``kernel_blob``) moved to the
asked-for batch and priced by the calibrated time model (``predict.api.predict_arrays``). No model is built or
recorded again, so a store of thousands of rows is priced in seconds, on any device, batch and precision.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Optional

from .kernel_blob import kernel_arrays


@dataclass(frozen=True)
class RowPredictions:
    """The predictions of the rows that have kernels, by row key, and what they are predictions of."""

    device: str  # the device key
    device_name: str
    batch: int
    step: str  # the precision's label ("amp-fp16", "fp32+tf32")
    calibration: str  # where the calibration comes from (a file, "shipped", "transferred from ...")
    calibration_error: Optional[float]  # its fit's median |predicted / measured - 1| on the rows it was fitted on
    by_key: dict  # SweepRow.key -> predict.api.Prediction

    def of(self, row):
        return self.by_key.get(row.key)

    @property
    def label(self) -> str:
        return f"{self.device_name}, batch {self.batch}, {self.step}"

    @property
    def provenance(self) -> str:
        error = ("" if self.calibration_error is None
                 else f"; its fit's median |error| on the runs it was fitted on is {100 * self.calibration_error:.1f}%")
        return (f"predicted latency: one forward pass at batch {self.batch} on the {self.device_name} "
                f"({self.device}, {self.step}) from each row's kernels recorded at batch 1; calibration: "
                f"{self.calibration}{error}")


def predict_rows(entries: Iterable, *, device: str, batch: int = 1, amp: Optional[str] = None,
                 calibration: Optional[str] = None) -> RowPredictions:
    """Predict every profiled row with kernels among ``entries`` (``LandscapeRow`` or ``SweepRow``) on device key
    ``device`` at ``batch``; ``amp`` ("fp16", "bf16") autocasts over float32 weights; ``calibration`` is a file
    (default: the device's shipped one, else one transferred, saying so)."""
    from ..predict.api import parse_step, predict_arrays, prediction_setup

    peak, cal, where = prediction_setup(device, batch, calibration)
    step = parse_step(amp=amp)
    by_key = {}
    for entry in entries:
        row = getattr(entry, "row", entry)
        arrays = kernel_arrays(row) if row.status == "profiled" else None
        if arrays is not None:
            by_key[row.key] = predict_arrays(arrays.at(batch), peak, device, step, cal, where)
    return RowPredictions(device, peak.name, batch, step.label, where, cal.fit_median_error, by_key)


__all__ = ["RowPredictions", "predict_rows"]
