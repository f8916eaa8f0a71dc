"""Wall time of the commands that ask several analyses of each model, against an earlier checkout of cnnprofile,
in interleaved rounds (one run of each version per round, in fresh processes, so a change in the machine's
load touches both alike). Reported: the median wall time of each and the median of the per-round ratios.

    git worktree add /tmp/before <commit>     # the version to compare with
    python benchmarks/bench_one_trace.py --before /tmp/before [--rounds 3]
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LECTURE = ("alexnet nin googlenet vgg16 vgg19 resnet18 resnet34 resnet50 resnet101 resnet152 inception_v3 "
           "inception_v4").split()


def run(tree: str, args: list) -> float:
    env = {**os.environ, "PYTHONPATH": tree}
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "cnnprofile", *args], cwd=tempfile.gettempdir(), env=env,
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    if proc.returncode != 0:
        raise SystemExit(f"{tree}: cnnprofile {' '.join(args)} failed: {proc.stderr.decode()[-400:]}")
    return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--before", required=True, help="a checkout of the version to compare with")
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    out = tempfile.mkdtemp()
    commands = {
        "report (the zoo)": ["report", "-o", os.path.join(out, "zoo.html")],
        "compare (the lecture's 12 models)": ["compare", *LECTURE],
        "table resnet50 --rf --intensity --device-peak h200-sxm":
            ["table", "resnet50", "--rf", "--intensity", "--device-peak", "h200-sxm"],
        # What every command pays before and after its work: Python, import torch and cnnprofile, the exit.
        "--version (start-up and exit only)": ["--version"],
    }
    print(f"{os.cpu_count()} CPUs, {args.rounds} interleaved rounds, before = {args.before}, after = {HERE}")
    walls = {name: ([], []) for name in commands}
    for _ in range(args.rounds):  # every command of both versions in each round
        for name, cmd in commands.items():
            walls[name][0].append(run(args.before, cmd))
            walls[name][1].append(run(HERE, cmd))
    floor = walls["--version (start-up and exit only)"]
    for name, (before, after) in walls.items():
        ratio = statistics.median(a / b for a, b in zip(after, before))
        # The floor of the after version is the least any command of it can take: its work is the rest.
        least = statistics.median(f / b for f, b in zip(floor[1], before))
        print(f"{name}: before {statistics.median(before):.2f} s, after {statistics.median(after):.2f} s, "
              f"after/before {ratio:.2f}x (the after version's start-up and exit alone: {least:.2f}x)")


if __name__ == "__main__":
    main()
