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
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cnnprofile.predict.measurements import read_results, timm_rows  # noqa: E402


def key(model: str, size: int) -> str:
    return f"{model}@{size}"


def record_one(model: str, size: int, cache: str, published_params: float | None = None):
    """Record (model, size); where the file's parameter count is not the network as built but its
    re-parameterised form (timm's benchmark.py --reparam: MobileOne, RepVGG, FastViT...), record that form."""
    import torch

    from cnnprofile.errors import first_line
    from cnnprofile.predict.features import model_arrays

    torch.set_num_threads(1)
    try:
        arrays = model_arrays(f"timm:{model}", (3, size, size))
        if published_params is not None and round(arrays.param_total_bytes / 4e6, 2) != published_params:
            from cnnprofile.sources import resolve_model
            from cnnprofile.sources.deploy import reparameterize

            module = reparameterize(resolve_model(f"timm:{model}").build("meta").eval())
            deployed = model_arrays(module, (1, 3, size, size))
            if round(deployed.param_total_bytes / 4e6, 2) == published_params:
                arrays = replace(deployed, name=f"timm:{model} (re-parameterised)")
    except Exception as e:  # noqa: BLE001 - every failure is listed with its reason, the sweep goes on
        return model, size, first_line(e, with_type=True)[:300]
    arrays.save(os.path.join(cache, key(model, size) + ".npz"))
    return model, size, None


def published_params(path: str) -> dict:
    """model -> param_count (millions) as the newest file gives it."""
    return {r["model"]: float(r["param_count"].replace(",", "")) for r in timm_rows(path)[1]}


def _record(job):
    return record_one(*job)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("files", nargs="+")
    parser.add_argument("--cache", default="benchmarks/.cache/kernels")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--only", default=None, help="re-record the models whose name matches this glob")
    args = parser.parse_args()
    os.makedirs(args.cache, exist_ok=True)
    published = {}
    for f in args.files:  # the first file named wins (give the newest first)
        published = {**published_params(f), **published}
    wanted = sorted({(m.architecture, m.input_shape[-1]) for f in args.files for m in read_results(f)})
    if args.only:
        import fnmatch

        for m, s in wanted:
            path = os.path.join(args.cache, key(m, s) + ".npz")
            if fnmatch.fnmatch(m, args.only) and os.path.exists(path):
                os.remove(path)
    todo = [(m, s) for m, s in wanted if not os.path.exists(os.path.join(args.cache, key(m, s) + ".npz"))]
    failed_path = os.path.join(args.cache, "failed.json")
    failed = json.load(open(failed_path)) if os.path.exists(failed_path) else {}
    todo = [(m, s) for m, s in todo if key(m, s) not in failed]
    print(f"{len(wanted)} (model, size) pairs, {len(todo)} to record", flush=True)
    # Fresh workers every few models keep memory bounded (multiprocessing.Pool: concurrent.futures' own
    # max_tasks_per_child hangs on Python 3.11 when it replaces a worker).
    with multiprocessing.get_context("spawn").Pool(args.jobs, maxtasksperchild=100) as pool:
        work = [(m, s, args.cache, published.get(m)) for m, s in todo]
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
