"""A calibration: the fitted terms of the time model for one device, with where they came from.

A JSON file per device: the fraction of each roof each kernel class reaches, the launch cost and the fill
terms, its provenance (what it was fitted on, when, with which step, the fit's error, and, for a device nobody
measured, the calibration it was transferred from through the datasheet peaks), the misfit left on each
fitted model, which a few-shot fit on another device takes off that model's rows (``predict.fewshot``), and how
far off the calibration was when transferred zero-shot to devices whose measurements it was scored on.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field

from ..errors import InputError
from ..files import write_atomic

SCHEMA = "cnnprofile.calibration/1"


@dataclass(frozen=True)
class Calibration:
    device: str  # the device key (``devices.device_by_key``)
    params: dict  # {"compute": {class: fraction}, "memory": {class: fraction}, "launch_s", "reduction_half", ...}
    fitted_on: tuple = ()  # the results files (or the base calibration) it was fitted on
    rows: int = 0  # measurements fitted
    step: str = ""  # the precision of the measurements fitted ("amp-fp16")
    fit_median_error: float | None = None  # median |predicted / measured - 1| on the fitted rows (in-sample)
    transferred_from: str | None = None  # the device whose calibration this is, moved through datasheet peaks
    base: str | None = None  # the calibration a few-shot fit started from
    created: str = ""  # UTC date and time of the fit
    tool_version: str = ""
    notes: tuple = field(default_factory=tuple)
    # "model@CxHxW" -> log(predicted / measured) of that fitted row: what the time model gets wrong about that
    # network, which a few-shot fit from this calibration takes off the same model's row on another device
    misfit: dict = field(default_factory=dict)
    # device key -> how this calibration did when moved, unchanged but for the datasheet peaks, to measurements
    # of that device it never saw: {"rows", "median_abs_error", "median_signed_error", "scored_on"}. A
    # prediction for a device nobody measured states these, since its own fit error says nothing of a transfer.
    transfer_checks: dict = field(default_factory=dict)
    schema: str = SCHEMA

    def to_json(self) -> str:
        d = asdict(self)
        d["fitted_on"], d["notes"] = list(self.fitted_on), list(self.notes)
        return json.dumps(d, indent=1, sort_keys=True) + "\n"

    def save(self, path: str) -> None:
        write_atomic(path, self.to_json().encode())  # a failed write never leaves half a calibration


def load(path: str, device: str | None = None) -> Calibration:
    """The calibration in ``path``; one line naming the problem if it is not one, is of another schema, or is
    for another device than ``device``."""
    try:
        with open(path, encoding="utf-8") as f:
            d = json.load(f)
    except FileNotFoundError:
        raise InputError(f"{path}: no such calibration file") from None
    except (OSError, ValueError) as e:
        raise InputError(f"{path}: not a calibration file ({type(e).__name__})") from None
    if not isinstance(d, dict) or d.get("schema") != SCHEMA:
        found = d.get("schema") if isinstance(d, dict) else None
        raise InputError(f"{path}: calibration schema {found!r}, this version reads {SCHEMA!r}")
    if device is not None and d.get("device") != device:
        raise InputError(f"{path}: a calibration for {d.get('device')!r}, not for {device!r}")
    params = d.get("params")
    if not isinstance(params, dict) or not {"compute", "memory", "launch_s"} <= set(params):
        raise InputError(f"{path}: calibration without its parameters")
    d["fitted_on"], d["notes"] = tuple(d.get("fitted_on", ())), tuple(d.get("notes", ()))
    known = Calibration.__dataclass_fields__
    return Calibration(**{k: v for k, v in d.items() if k in known})


__all__ = ["SCHEMA", "Calibration", "load"]
