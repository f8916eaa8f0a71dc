"""Cost of ``cnnprofile memory`` against ``cnnprofile table`` on the same model, each in a fresh process.

Goals (issue 9): ``memory resnet50 --train --batch 256`` costs no more peak RSS than ``--batch 1`` (nothing real is
allocated) and <= 1.5x the wall time of ``table resnet50``; ``--fit`` <= 3x. Wall time is the median of --repeat
runs; peak RSS is the child's ``ru_maxrss`` (``os.wait4``).

    python benchmarks/bench_memory.py [--python PATH] [--repeat 3]
"""
from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import time

MIB = 1024 * 1024


def measure(cmd: list, repeat: int) -> tuple:
    walls, peaks = [], []
    for _ in range(repeat):
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        _, status, usage = os.wait4(proc.pid, 0)
        walls.append(time.perf_counter() - start)
        peaks.append(usage.ru_maxrss * 1024)
        if os.waitstatus_to_exitcode(status) != 0:
            raise SystemExit(f"failed: {' '.join(cmd)}: {proc.stderr.read().decode()[-500:]}")
    return statistics.median(walls), max(peaks)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--python", default=sys.executable)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    cli = [args.python, "-m", "cnnprofile"]
    cases = [
        ("table resnet50", ["table", "resnet50"]),
        ("memory resnet50 --train --batch 1", ["memory", "resnet50", "--train", "--batch", "1"]),
        ("memory resnet50 --train --batch 256", ["memory", "resnet50", "--train", "--batch", "256"]),
        ("memory resnet50 --train --optimizer adamw --amp bf16 --fit 24GB",
         ["memory", "resnet50", "--train", "--optimizer", "adamw", "--amp", "bf16", "--fit", "24GB"]),
    ]
    rows = [(label, *measure(cli + argv, args.repeat)) for label, argv in cases]
    base_wall = rows[0][1]
    print(f"python {platform.python_version()}, {platform.machine()}, {os.cpu_count()} cores, median of {args.repeat}")
    print("| command | wall (s) | x table | peak RSS (MiB) |")
    print("| --- | ---: | ---: | ---: |")
    for label, wall, rss in rows:
        print(f"| `cnnprofile {label}` | {wall:.2f} | {wall / base_wall:.2f} | {rss / MIB:.0f} |")


if __name__ == "__main__":
    main()
