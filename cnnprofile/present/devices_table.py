"""The device peak table (``cnnprofile devices``) as text, markdown, CSV or JSON: every key ``--device-peak``
takes, its peaks and their sources. Nothing here holds or computes a figure; they come from ``devices``."""
from __future__ import annotations

from typing import Callable, Optional, Sequence

from ..devices import CPU_KEY, PEAKS, PRECISIONS, DevicePeak, cpu_upper_bound, shipped_calibration
from .tabular import Table, render_table, right_aligned

HEADERS = ("Key", "Device", "FP32", "TF32", "FP16", "BF16", "FP16 acc16", "GB/s", "Calibration")
CSV_COLUMNS = ("key", "name", "fp32", "tf32", "fp16", "bf16", "fp16_acc_tflops", "bandwidth_gbs", "calibration",
               "source", "bandwidth_source")

CONVENTIONS = (
    "TFLOP/s: the vendor's peak at the boost clock, dense (a 'with sparsity' figure halved); GB/s: peak memory "
    "bandwidth, 10^9 bytes per second",
    "FP16 and BF16: tensor math with FP32 accumulation, as PyTorch runs it; GeForce cards run it at half their "
    "FP16-accumulate rate, shown apart as 'FP16 acc16' and used by no roof",
    "'-' under TF32: no TF32 tensor cores (float32 runs on the FP32 units); '-' under BF16: no BF16 support",
    "cpu: a documented upper bound on any x86 core, per thread; `--device-peak cpu` multiplies it by the "
    "threads of the process (torch.get_num_threads()), so a CPU roofline is a true (loose) lower bound",
    "Calibration: 'shipped' where a measured latency calibration ships for the device "
    "(cnnprofile/data/calibrations/<key>.json); 'moved from KEY' where predictions move that device's through "
    "the datasheet peaks, with the median |error| the move scored zero-shot on measurements of this device "
    "where there are some (no measurement of it entered the calibration)",
)


def _cpu_row() -> DevicePeak:
    return cpu_upper_bound(1)


def _num(v: Optional[float]) -> str:
    return "-" if v is None else f"{v:g}"


def _calibration_label(found, moved_from, check) -> str:
    if found:
        return "shipped"
    if not moved_from:
        return "no"
    return f"moved from {moved_from}" + (f", scored {100 * check['median_abs_error']:.1f}%" if check else "")


def devices_table(peaks: Sequence[DevicePeak] = PEAKS,
                  calibration: Callable[[str], object] = shipped_calibration,
                  transfer: tuple = (None, {})) -> Table:
    """One row per key of ``peaks`` and one for ``cpu`` (per thread), sources in the notes; ``calibration``
    maps a key to its shipped calibration file or None; ``transfer``: (the key whose calibration a GPU without
    one gets, that calibration's zero-shot checks by key), as ``predict.api.transfer_base`` gives them."""
    rows, records, notes = [], [], list(CONVENTIONS)
    entries = [(p.key, p, p.name) for p in peaks] + [(CPU_KEY, _cpu_row(), "CPU upper bound (per thread)")]
    base, checks = transfer
    for key, peak, name in entries:
        found = calibration(key)
        # a GPU without a published bandwidth cannot be predicted; a GPU's fractions say nothing of a CPU
        moved_from = base if not found and key != CPU_KEY and peak.bandwidth_gbs is not None else None
        check = checks.get(key) if moved_from else None
        tflops = {p: peak.tflops.get(p) for p in PRECISIONS}
        rows.append((key, name, *(_num(tflops[p]) for p in PRECISIONS), _num(peak.fp16_acc_tflops),
                     _num(peak.bandwidth_gbs), _calibration_label(found, moved_from, check)))
        records.append({"key": key, "name": name, **tflops, "fp16_acc_tflops": peak.fp16_acc_tflops,
                        "bandwidth_gbs": peak.bandwidth_gbs, "calibration": str(found) if found else None,
                        "transferred_from": moved_from, "transfer_check": check,
                        "source": peak.source, "bandwidth_source": peak.bandwidth_source,
                        "per_thread": key == CPU_KEY})
        notes.append(f"{key}: {peak.source}; bandwidth: {peak.bandwidth_source}")
    return Table(headers=HEADERS, rows=tuple(rows), align=right_aligned(len(HEADERS), 2, 8),
                 title="Peaks per device (--device-peak KEY)", notes=tuple(notes), records=tuple(records),
                 columns=CSV_COLUMNS, meta={"conventions": list(CONVENTIONS)}, records_key="devices")


def render_devices(fmt: str = "text") -> str:
    from ..predict.api import transfer_base

    return render_table(devices_table(transfer=transfer_base()), fmt)
