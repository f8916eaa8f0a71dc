"""Speed and memory of the analyzer, measured side by side with the alternatives, reported as ratios.

Each command runs in a fresh process; wall time is the median of --repeat runs and peak RSS is the child's
``ru_maxrss`` from ``os.wait4``. Baselines: ``python -c "import torch"`` (the floor any torch tool pays) and
torchinfo's ``summary`` of the same VGG-16 (it runs a real forward pass with real weights).

    python benchmarks/bench_analyzer.py [--python PATH] [--repeat 5] [--markdown]
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
        peaks.append(usage.ru_maxrss * 1024)  # kilobytes on Linux
        if os.waitstatus_to_exitcode(status) != 0:
            raise SystemExit(f"failed: {' '.join(cmd)}: {proc.stderr.read().decode()[-500:]}")
    return statistics.median(walls), max(peaks)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--python", default=sys.executable)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--skip-torchinfo", action="store_true")
    args = ap.parse_args()
    py = args.python

    zoo = subprocess.run([py, "-c", "import cnnprofile; print(' '.join(s.name for s in cnnprofile.list_models()))"],
                         capture_output=True, text=True, check=True).stdout.split()
    version = subprocess.run([py, "-c", "import torch; print(torch.__version__)"], capture_output=True, text=True,
                             check=True).stdout.strip()
    rows = []
    base_wall, base_rss = measure([py, "-c", "import torch"], args.repeat)
    rows.append(("python -c 'import torch'", base_wall, base_rss))
    table = [py, "-m", "cnnprofile", "table", "vgg16"]
    t_wall, t_rss = measure(table, args.repeat)
    rows.append(("cnnprofile table vgg16", t_wall, t_rss))
    if not args.skip_torchinfo:
        ti = ("import torch, torchinfo, cnnprofile; from cnnprofile.models import get_model_spec; "
              "torchinfo.summary(get_model_spec('vgg16').build(), input_size=(1, 3, 224, 224), verbose=0)")
        rows.append(("torchinfo.summary(vgg16)", *measure([py, "-c", ti], args.repeat)))
    one = "import cnnprofile; cnnprofile.profile('vgg16')"
    every = "import cnnprofile; [cnnprofile.profile(s.name) for s in cnnprofile.list_models()]"
    rows.append(("profile(vgg16) in one process", *measure([py, "-c", one], args.repeat)))
    rows.append((f"profile(whole zoo, {len(zoo)} models) in one process", *measure([py, "-c", every], args.repeat)))

    print(f"Machine: {platform.machine()}, {os.cpu_count()} cores, {platform.processor() or platform.platform()}; "
          f"torch {version}; median of {args.repeat} runs\n")
    print("| command | wall (s) | x import torch | peak RSS (MiB) | RSS - import torch (MiB) |")
    print("|---|---:|---:|---:|---:|")
    for name, wall, rss in rows:
        print(f"| {name} | {wall:.2f} | {wall / base_wall:.2f} | {rss / MIB:.0f} | {(rss - base_rss) / MIB:+.0f} |")
    zoo_wall = rows[-1][1] / rows[-2][1]
    print(f"\nWhole zoo / one model (same process kind): {zoo_wall:.2f}x wall time")

    print("\n| model | peak RSS batch 1 (MiB) | peak RSS batch 256 (MiB) |")
    print("|---|---:|---:|")
    worst = 0
    for name in zoo:
        peaks = [measure([py, "-m", "cnnprofile", "table", name, "--batch", str(b), "--format", "json"], 1)[1]
                 for b in (1, 256)]
        worst = max(worst, *peaks)
        print(f"| {name} | {peaks[0] / MIB:.0f} | {peaks[1] / MIB:.0f} |")
    over = (worst - base_rss) / MIB
    print(f"\nWorst peak RSS over the zoo: {worst / MIB:.0f} MiB ({over:+.0f} MiB over import torch)")


if __name__ == "__main__":
    main()
