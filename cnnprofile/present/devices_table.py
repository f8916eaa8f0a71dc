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
    "Calibration: whether a measured latency calibration ships for the device "
    "(cnnprofile/data/calibrations/<key>.json)",
)


def _cpu_row() -> DevicePeak:
    return cpu_upper_bound(1)


def _num(v: Optional[float]) -> str:
    return "-" if v is None else f"{v:g}"


def devices_table(peaks: Sequence[DevicePeak] = PEAKS,
                  calibration: Callable[[str], object] = shipped_calibration) -> Table:
    """One row per key of ``peaks`` and one for ``cpu`` (per thread), sources in the notes; ``calibration``
    maps a key to its shipped calibration file or None."""
    rows, records, notes = [], [], list(CONVENTIONS)
    entries = [(p.key, p, p.name) for p in peaks] + [(CPU_KEY, _cpu_row(), "CPU upper bound (per thread)")]
    for key, peak, name in entries:
        found = calibration(key)
        tflops = {p: peak.tflops.get(p) for p in PRECISIONS}
        rows.append((key, name, *(_num(tflops[p]) for p in PRECISIONS), _num(peak.fp16_acc_tflops),
                     _num(peak.bandwidth_gbs), "yes" if found else "no"))
        records.append({"key": key, "name": name, **tflops, "fp16_acc_tflops": peak.fp16_acc_tflops,
                        "bandwidth_gbs": peak.bandwidth_gbs, "calibration": str(found) if found else None,
                        "source": peak.source, "bandwidth_source": peak.bandwidth_source,
                        "per_thread": key == CPU_KEY})
        notes.append(f"{key}: {peak.source}; bandwidth: {peak.bandwidth_source}")
    return Table(headers=HEADERS, rows=tuple(rows), align=right_aligned(len(HEADERS), 2, 8),
                 title="Peaks per device (--device-peak KEY)", notes=tuple(notes), records=tuple(records),
                 columns=CSV_COLUMNS, meta={"conventions": list(CONVENTIONS)}, records_key="devices")


def render_devices(fmt: str = "text") -> str:
    return render_table(devices_table(), fmt)
