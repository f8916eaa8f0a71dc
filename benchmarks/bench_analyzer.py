"""Start-up speed and memory of the analyzer, measured side by side with the alternatives, reported as ratios.

Every command runs in a fresh process. The commands are run in rounds, one of each per round in the same order,
so that a change in the machine's load touches all of them alike; a command's wall time is the median over the
rounds and its ratio to ``python -c "import torch"`` is the median of the per-round ratios. Peak RSS is the
child's ``ru_maxrss`` from ``os.wait4`` (the largest over the rounds). Baselines: ``import torch`` (the floor any
torch tool pays) and torchinfo's ``summary`` of the same VGG-16 (a real forward pass with real weights).

    python benchmarks/bench_analyzer.py [--python PATH] [--rounds 7] [--skip-torchinfo] [--skip-zoo-rss]
        [--before CHECKOUT]

``--before`` adds the two in-process commands run from another checkout (``git worktree add /tmp/before REV``)
to every round, and reports its whole zoo / one model ratio beside this one's.
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


def run_once(cmd: list, where: str = None) -> tuple:
    """(wall seconds, peak RSS bytes) of ``cmd``; ``where``: a checkout to import cnnprofile from (run in it, since
    ``python -c`` puts the working directory ahead of PYTHONPATH)."""
    env = None if where is None else {**os.environ, "PYTHONPATH": where}
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, cwd=where)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"failed: {' '.join(cmd)}: {proc.stderr.read().decode()[-500:]}")
    return wall, usage.ru_maxrss * 1024  # kilobytes on Linux


def cpu_name() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.platform()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--python", default=sys.executable)
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--skip-torchinfo", action="store_true")
    ap.add_argument("--skip-zoo-rss", action="store_true", help="skip the per-model peak RSS at batch 1 and 256")
    ap.add_argument("--before", help="a checkout of an earlier version whose in-process commands run alongside")
    args = ap.parse_args()
    py = args.python

    zoo = subprocess.run([py, "-c", "import cnnprofile; print(' '.join(s.name for s in cnnprofile.list_models()))"],
                         capture_output=True, text=True, check=True).stdout.split()
    version = subprocess.run([py, "-c", "import torch; print(torch.__version__)"], capture_output=True, text=True,
                             check=True).stdout.strip()
    commands = {
        "python -c 'import torch'": [py, "-c", "import torch"],
        "cnnprofile table vgg16": [py, "-m", "cnnprofile", "table", "vgg16"],
        "cnnprofile table resnet50": [py, "-m", "cnnprofile", "table", "resnet50"],
        "profile(vgg16) in one process": [py, "-c", "import cnnprofile; cnnprofile.profile('vgg16')"],
        f"profile(whole zoo, {len(zoo)} models) in one process":
            [py, "-c", "import cnnprofile; [cnnprofile.profile(s.name) for s in cnnprofile.list_models()]"],
    }
    if not args.skip_torchinfo:
        commands["torchinfo.summary(vgg16)"] = [
            py, "-c", "import torch, torchinfo, cnnprofile; from cnnprofile.models import get_model_spec; "
            "torchinfo.summary(get_model_spec('vgg16').build(), input_size=(1, 3, 224, 224), verbose=0)"]
    one, every = "profile(vgg16) in one process", list(commands)[4]
    wheres = {name: None for name in commands}
    if args.before:
        for name in (one, every):
            commands[f"before: {name}"], wheres[f"before: {name}"] = commands[name], os.path.abspath(args.before)
    walls = {name: [] for name in commands}
    rss = {name: 0 for name in commands}
    for _ in range(args.rounds):
        for name, cmd in commands.items():
            wall, peak = run_once(cmd, wheres[name])
            walls[name].append(wall)
            rss[name] = max(rss[name], peak)
    base = "python -c 'import torch'"

    def ratio(name, to=base):
        return statistics.median(a / b for a, b in zip(walls[name], walls[to]))

    print(f"Machine: {platform.machine()}, {os.cpu_count()} cores, {cpu_name()}; torch {version}; "
          f"{args.rounds} rounds, commands interleaved\n")
    print("| command | wall (s), median | x import torch (median of per-round ratios) | peak RSS (MiB) "
          "| RSS - import torch (MiB) |")
    print("|---|---:|---:|---:|---:|")
    for name in commands:
        print(f"| {name} | {statistics.median(walls[name]):.2f} | {ratio(name):.2f} | {rss[name] / MIB:.0f} "
              f"| {(rss[name] - rss[base]) / MIB:+.0f} |")
    print(f"\nWhole zoo / one model (both in one process): {ratio(every, one):.2f}x wall time")
    if args.before:
        print(f"The same, {args.before}: {ratio('before: ' + every, 'before: ' + one):.2f}x wall time")

    if args.skip_zoo_rss:
        return
    print("\n| model | peak RSS batch 1 (MiB) | peak RSS batch 256 (MiB) |")
    print("|---|---:|---:|")
    worst = 0
    for name in zoo:
        peaks = [run_once([py, "-m", "cnnprofile", "table", name, "--batch", str(b), "--format", "json"])[1]
                 for b in (1, 256)]
        worst = max(worst, *peaks)
        print(f"| {name} | {peaks[0] / MIB:.0f} | {peaks[1] / MIB:.0f} |")
    over = (worst - rss[base]) / MIB
    print(f"\nWorst peak RSS over the zoo: {worst / MIB:.0f} MiB ({over:+.0f} MiB over import torch)")


if __name__ == "__main__":
    main()
