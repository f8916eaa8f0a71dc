"""The inference peak replayed from one recording against the memory predictor's own pass at each batch, on a
deterministic sample of timm architectures (every k-th with published weights, sorted) and every torchvision
classifier: how many recordings can be replayed at another batch, and whether the replayed peaks equal the
step's pass (CUDA's allocator, float32, the model's default input).

    python benchmarks/memory_replay_check.py --sample 60 --batches 8,64 --out reports/memory/replay-check.json
"""
import argparse
import json
import os
import time


def main():
    import timm
    import torch

    from cnnprofile.analyses.memory import Predictor
    from cnnprofile.analyses.memory.replay import peaks, replay, rescalable
    from cnnprofile.analyses.memory.targets import get_target
    from cnnprofile.record.run import record_module
    from cnnprofile.sources import module_and_inputs, torchvision_names

    ap = argparse.ArgumentParser()
    ap.add_argument("--sample", type=int, default=60)
    ap.add_argument("--batches", default="8,64")
    ap.add_argument("--torchvision", action="store_true", help="every torchvision classifier too")
    ap.add_argument("--out", default="reports/memory/replay-check.json")
    args = ap.parse_args()
    batches = tuple(int(b) for b in args.batches.split(","))
    names = sorted({n.split(".")[0] for n in timm.list_models(pretrained=True)})
    specs = [f"timm:{n}" for n in names[::max(1, len(names) // args.sample)][:args.sample]]
    if args.torchvision:
        specs += [f"torchvision:{n}" for n in torchvision_names()]
    cuda = get_target("cuda")
    rows = []
    for spec in specs:
        start = time.perf_counter()
        try:
            module, inputs, name, _ = module_and_inputs(spec, None, None, None, device="meta")
            traced = record_module(module, inputs, dtype=torch.float32, name=name or spec, lifetimes=True)
            why = rescalable(traced.recording)
            stepped = Predictor(module, inputs.main.shape, device="cuda")
            truth = tuple(stepped._step(b).peak_bytes for b in (1, *batches))
            got = peaks(traced, cuda, (1, *batches), step=lambda b: stepped._step(b).peak_bytes)
            # Where the check refuses the replay: what the replay would have said (is the refusal needed?).
            forced = tuple(replay(traced.recording, cuda, b, inputs.main.shape[0]).peak_bytes for b in (1, *batches))
            row = dict(model=spec, replayable=why is None, why=why, exact=got == truth, forced_exact=forced == truth,
                       replayed=list(got), step=list(truth))
        except Exception as e:  # a model the step cannot run either: listed, not counted
            row = dict(model=spec, error=f"{type(e).__name__}: {str(e).splitlines()[0][:160]}")
        row["seconds"] = round(time.perf_counter() - start, 2)
        rows.append(row)
        print(json.dumps({k: row[k] for k in row if k not in ("replayed", "step")}), flush=True)
    ran = [r for r in rows if "error" not in r]
    summary = dict(models=len(rows), ran=len(ran), replayable=sum(r["replayable"] for r in ran),
                   exact=sum(r["exact"] for r in ran),
                   replayable_and_exact=sum(r["replayable"] and r["exact"] for r in ran),
                   refused_but_exact_anyway=sum(not r["replayable"] and r["forced_exact"] for r in ran),
                   replayed_and_wrong=sum(r["replayable"] and not r["exact"] for r in ran), batches=list(batches),
                   errors=[r for r in rows if "error" in r])
    os.makedirs(os.path.dirname(args.out) or ".", exist_ok=True)
    with open(args.out, "w") as f:
        json.dump(dict(summary=summary, rows=rows), f, indent=1)
    print(json.dumps({k: v for k, v in summary.items() if k != "errors"}))


if __name__ == "__main__":
    main()
