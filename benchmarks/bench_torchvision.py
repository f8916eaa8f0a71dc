"""Profiling every torchvision model in one process: wall time and peak RSS, and the cost of the real fallback.

Models that run on the meta device (all but detection) are profiled one after the other in this process; then
each detection model through the real-execution fallback (random weights, CPU), then a few classifiers both ways
to price the fallback against the meta engine on the same network.

    python benchmarks/bench_torchvision.py [--markdown] [--skip-detection]
"""
from __future__ import annotations

import argparse
import os
import platform
import resource
import time


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--markdown", action="store_true")
    parser.add_argument("--skip-detection", action="store_true")
    args = parser.parse_args()

    t0 = time.perf_counter()
    import cnnprofile
    from cnnprofile.sources import resolve_model, torchvision_names

    start_rss = peak_rss_mib()
    sources = [resolve_model(f"torchvision:{n}") for n in torchvision_names()]
    meta = [s for s in sources if not s.real_reason]
    real = [s for s in sources if s.real_reason]
    t1 = time.perf_counter()
    for s in meta:
        cnnprofile.profile(s)
    t_meta = time.perf_counter() - t1
    rss_meta = peak_rss_mib()
    rows = [("all %d meta-engine models, one process" % len(meta), f"{t_meta:.1f} s",
             f"{t_meta / len(meta):.2f} s", f"{rss_meta:.0f} MiB")]
    if not args.skip_detection:
        t2 = time.perf_counter()
        for s in real:
            t = time.perf_counter()
            cnnprofile.profile(s)
            rows.append((f"  {s.name} (real)", f"{time.perf_counter() - t:.1f} s", "", ""))
        t_real = time.perf_counter() - t2
        rows.insert(1, (f"all {len(real)} detection models, real fallback, same process", f"{t_real:.1f} s",
                        f"{t_real / len(real):.1f} s", f"{peak_rss_mib():.0f} MiB"))
    for name in ("resnet50", "mobilenet_v3_large"):
        times = {}
        for engine in ("meta", "real"):
            t = time.perf_counter()
            cnnprofile.profile(f"torchvision:{name}", engine=engine)
            times[engine] = time.perf_counter() - t
        rows.append((f"torchvision:{name}: meta vs real", f"{times['meta']:.2f} s vs {times['real']:.2f} s",
                     f"x{times['real'] / times['meta']:.1f}", ""))
    total = time.perf_counter() - t0
    header = ("Run", "Wall", "Per model / ratio", "Peak RSS")
    import torch

    machine = f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, torch {torch.__version__}"
    if args.markdown:
        print(f"Machine: {machine}; process start RSS after imports {start_rss:.0f} MiB; total {total:.0f} s\n")
        print("| " + " | ".join(header) + " |\n|" + "---|" * len(header))
        for r in rows:
            print("| " + " | ".join(r) + " |")
    else:
        print(machine)
        for r in rows:
            print("  ".join(r))


if __name__ == "__main__":
    main()
