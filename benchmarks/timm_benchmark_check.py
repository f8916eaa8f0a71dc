"""Our parameters and MACs against timm's published RTX 4090 inference benchmark (params and fvcore MACs at batch
1, at the file's image size), on a deterministic sample of its architectures.

    python benchmarks/timm_benchmark_check.py --sample 100 --jobs 2 --out reports/timm-check
    python benchmarks/timm_benchmark_check.py --only 'repvgg_*' --only 'mobileone_*' --reparam --out reports/rep

``--only GLOB`` checks the rows of those architectures (all of them, not a sample); ``--reparam`` profiles them
deployed (``cnnprofile.sources.deploy``), as timm counts its re-parameterisable families.

The file (benchmarks/data/, an unchanged copy with its commit and licence) rounds parameters to 0.01 M and MACs to
0.01 G. A parameter count matches when ours rounds to the file's figure. MACs are compared as a relative
difference; fvcore (timm's counter) counts normalisation layers and skips scaled-dot-product attention, which we
do not, so attention networks differ by design. Writes ``store.db`` (the sweep) and ``check.json``.
"""
import argparse
import csv
import fnmatch
import json
import os
import statistics
from pathlib import Path

FILE = Path(__file__).parent / "data" / "timm-benchmark-infer-amp-nchw-pt291-cu128-4090.csv"


def published() -> list:
    with open(FILE, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(line for line in f if not line.startswith("#")))


def sample(rows: list, n: int) -> list:
    rows = sorted(rows, key=lambda r: r["model"])
    step = max(1, len(rows) // n)
    return rows[::step][:n]


def main():
    import timm

    from cnnprofile.landscape import Store, read_rows
    from cnnprofile.landscape.cells import Job
    from cnnprofile.landscape.local import LocalExecutor
    from cnnprofile.landscape.measure import rows_of

    parser = argparse.ArgumentParser()
    parser.add_argument("--sample", type=int, default=100)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=300)
    parser.add_argument("--out", default="reports/timm-check")
    parser.add_argument("--only", action="append", default=[], metavar="GLOB",
                        help="Every row whose architecture matches (repeatable), instead of a sample.")
    parser.add_argument("--reparam", action="store_true", help="Profile the deployed form.")
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    rows = published()
    if args.only:
        chosen = sorted((r for r in rows if any(fnmatch.fnmatch(r["model"], g) for g in args.only)),
                        key=lambda r: r["model"])
    else:
        chosen = sample(rows, args.sample)
    missing = [r["model"] for r in chosen if not timm.is_model(r["model"])]
    jobs = [Job(model=f"timm:{r['model']}", kwargs="{}", input_size=(3, int(r["infer_img_size"]),
                                                                      int(r["infer_img_size"])),
                batch=1, tags=("",), architecture=r["model"], origin="timm", reparam=args.reparam)
            for r in chosen if timm.is_model(r["model"])]
    path = os.path.join(args.out, "store.db")
    with Store(path) as store:
        done = {r.model for r in store.rows()}
        LocalExecutor(jobs=args.jobs, timeout=args.timeout).run(
            [j for j in jobs if j.model not in done], lambda job, outcome: store.put(rows_of(job, outcome)))
    ours = {r.architecture: r for r in read_rows(path)}
    params_off, macs_diff, failed = [], {}, []
    for r in chosen:
        row = ours.get(r["model"])
        if row is None:
            continue
        if row.status != "profiled":
            failed.append((r["model"], row.failure, row.reason))
            continue
        if round(row.params / 1e6, 2) != float(r["param_count"].replace(",", "")):
            params_off.append((r["model"], row.params, r["param_count"]))
        theirs = float(r["infer_gmacs"].replace(",", ""))
        if theirs > 0:
            macs_diff[r["model"]] = (row.macs / 1e9 - theirs) / theirs
    diffs = sorted(abs(d) for d in macs_diff.values())

    def within(x):
        return round(sum(d <= x for d in diffs) / len(diffs), 3) if diffs else None

    out = dict(file=str(FILE.name), sampled=len(chosen), not_in_installed_timm=missing, failed=failed,
               profiled=len(macs_diff), params_equal=len(macs_diff) - len(params_off), params_differ=params_off,
               macs_within={"1%": within(0.01), "2%": within(0.02), "5%": within(0.05), "10%": within(0.10)},
               macs_median_abs_diff=round(statistics.median(diffs), 4) if diffs else None,
               macs_worst=sorted(macs_diff.items(), key=lambda kv: -abs(kv[1]))[:15])
    with open(os.path.join(args.out, "check.json"), "w") as f:
        json.dump(out, f, indent=1)
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
