"""Time a landscape sweep on a deterministic sample of timm architectures at 1 and 2 workers, and project the
full field's time from the per-network cost.

    python benchmarks/landscape_sample.py --sample 50 --out reports/landscape-sample

The sample is every k-th architecture with published weights (``timm.list_models(pretrained=True)``, tags
dropped, sorted), k chosen for ``--sample`` names; each architecture is swept at every published (tag, size) as
``cnnprofile sweep`` does. Writes one store per worker count and ``summary.json`` (times, per-network seconds,
projections).
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time


def sample(n: int) -> list:
    import timm

    names = sorted({n.split(".")[0] for n in timm.list_models(pretrained=True)})  # architectures, not tags
    step = max(1, len(names) // n)
    return names[::step][:n], len(names)


def main():
    from cnnprofile.landscape import read_rows, sweep
    from cnnprofile.landscape.cells import jobs_for

    parser = argparse.ArgumentParser()
    parser.add_argument("--sample", type=int, default=50)
    parser.add_argument("--workers", default="1,2")
    parser.add_argument("--timeout", type=float, default=300)
    parser.add_argument("--out", default="reports/landscape-sample")
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    names, field = sample(args.sample)
    specs = [f"timm:{n}" for n in names]
    t = time.perf_counter()
    networks = len(jobs_for(specs))
    planning_s = time.perf_counter() - t
    runs = {}
    for workers in map(int, args.workers.split(",")):
        store = os.path.join(args.out, f"sample-{workers}.db")
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(store + suffix):
                os.remove(store + suffix)
        # A fresh process per run, timed from outside: the command as a user runs it, interpreter, forkserver
        # and its imports included (in-process, a second run would reuse the first one's forkserver).
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "cnnprofile", "sweep", *specs, "--store", store, "--jobs",
                        str(workers), "--timeout", str(args.timeout), "-q"], check=True)
        wall = time.perf_counter() - start
        rows = read_rows(store)
        per_network = {}
        for r in rows:  # rows of one network share its seconds
            per_network[(r.model, r.input_size)] = r.seconds
        cost = sorted(per_network.values())
        resume = sweep(specs, store, jobs=workers, timeout=args.timeout)
        failed = [r for r in rows if r.status == "failed"]
        runs[workers] = dict(seconds=round(wall, 1), networks=networks, rows=len(rows),
                             profiled=len(rows) - len(failed), failed=len(failed),
                             failures=[[r.model, r.tag, r.input_size, r.failure, r.reason] for r in failed],
                             median_s=round(statistics.median(cost), 2), p90_s=round(cost[int(0.9 * len(cost))], 2),
                             max_s=round(cost[-1], 2), sum_s=round(sum(cost), 1),
                             resume_seconds=round(resume.seconds, 2), resume_work=resume.profiled + resume.failed)
    per_arch = {w: r["seconds"] / len(names) for w, r in runs.items()}
    out = dict(sample=names, architectures_in_field=field, networks_in_sample=networks, planning_s=round(planning_s, 1),
               runs=runs, projected_full_field_minutes={w: round(s * field / 60, 1) for w, s in per_arch.items()})
    with open(os.path.join(args.out, "summary.json"), "w") as f:
        json.dump(out, f, indent=1)
    print(json.dumps({k: v for k, v in out.items() if k != "sample"}, indent=1))


if __name__ == "__main__":
    main()
