"""Record the kernels of every architecture in timm's benchmark files once, at batch 1 and the file's image size,
into a cache of one ``.npz`` per (model, size): what ``benchmarks/predict_check.py`` fits and scores on.

    python benchmarks/predict_features.py --jobs 2 --cache benchmarks/.cache/kernels FILE.csv...

Resumable: a (model, size) already in the cache is not recorded again; one that fails is listed in
``failed.json`` with its one-line reason.
"""
import argparse
import multiprocessing
import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cnnprofile.predict.measurements import read_results  # noqa: E402


def key(model: str, size: int) -> str:
    return f"{model}@{size}"


def record_one(model: str, size: int, cache: str):
    import torch

    from cnnprofile.errors import first_line
    from cnnprofile.predict.features import model_arrays

    torch.set_num_threads(1)
    try:
        arrays = model_arrays(f"timm:{model}", (3, size, size))
    except Exception as e:  # noqa: BLE001 - every failure is listed with its reason, the sweep goes on
        return model, size, first_line(e, with_type=True)[:300]
    arrays.save(os.path.join(cache, key(model, size) + ".npz"))
    return model, size, None


def _record(job):
    return record_one(*job)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("files", nargs="+")
    parser.add_argument("--cache", default="benchmarks/.cache/kernels")
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    os.makedirs(args.cache, exist_ok=True)
    wanted = sorted({(m.architecture, m.input_shape[-1]) for f in args.files for m in read_results(f)})
    todo = [(m, s) for m, s in wanted if not os.path.exists(os.path.join(args.cache, key(m, s) + ".npz"))]
    failed_path = os.path.join(args.cache, "failed.json")
    failed = json.load(open(failed_path)) if os.path.exists(failed_path) else {}
    todo = [(m, s) for m, s in todo if key(m, s) not in failed]
    print(f"{len(wanted)} (model, size) pairs, {len(todo)} to record", flush=True)
    # Fresh workers every few models keep memory bounded (multiprocessing.Pool: concurrent.futures' own
    # max_tasks_per_child hangs on Python 3.11 when it replaces a worker).
    with multiprocessing.get_context("spawn").Pool(args.jobs, maxtasksperchild=100) as pool:
        work = [(m, s, args.cache) for m, s in todo]
        for n, (model, size, error) in enumerate(pool.imap_unordered(_record, work), 1):
            if error:
                failed[key(model, size)] = error
                with open(failed_path, "w") as f:
                    json.dump(failed, f, indent=1, sort_keys=True)
            if n % 20 == 0:
                print(f"{n}/{len(todo)} done, {len(failed)} failed", flush=True)
    print(f"done: {len(wanted) - len(failed)} recorded, {len(failed)} failed")


if __name__ == "__main__":
    main()
