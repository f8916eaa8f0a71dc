"""GPU check of ``cnnprofile memory --device cuda``: predicted peak against ``torch.cuda.max_memory_allocated()``.

    python benchmarks/gpu_memory_check.py [--out results.jsonl] [--models resnet50 vgg16] [--batches 1 32 128]

For each torchvision model, batch, mode (inference; one adamw training step) and precision (float32; autocast
bf16 with float32 weights): build the model on the GPU, run one warm-up step (the optimizer's state, cuBLAS and
cuDNN workspaces get allocated), reset the peak statistics, run the measured step, and compare
``torch.cuda.max_memory_allocated()`` with ``cnnprofile.memory.memory(f"torchvision:{name}", batch=..., train=...,
optimizer="adamw", amp="bf16" or None, device="cuda").peak_bytes``. Goal: within 10%.
Prints a table and writes one JSON line per case. Exits with status 2 and one line where there is no CUDA GPU.
"""
from __future__ import annotations

import argparse
import gc
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))


def measure(name: str, batch: int, train: bool, amp) -> int:
    import torch
    import torchvision

    torch.manual_seed(0)
    model = getattr(torchvision.models, name)(weights=None).cuda().train(train)
    x = torch.randn(batch, 3, 224, 224, device="cuda")
    target = torch.zeros(batch, dtype=torch.long, device="cuda")
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3) if train else None  # foreach: torch's CUDA default

    def step():
        if not train:
            with torch.no_grad(), torch.autocast("cuda", dtype=amp, enabled=amp is not None):
                out = model(x)
            del out
            return
        with torch.autocast("cuda", dtype=amp, enabled=amp is not None):
            out = model(x)
            loss = torch.nn.functional.cross_entropy(out, target)
        loss.backward()
        del loss, out
        opt.step()
        opt.zero_grad(set_to_none=True)

    step()
    torch.cuda.synchronize()
    torch.cuda.reset_peak_memory_stats()
    step()
    torch.cuda.synchronize()
    peak = torch.cuda.max_memory_allocated()
    del model, x, target, opt
    gc.collect()
    torch.cuda.empty_cache()
    return peak


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--models", nargs="+", default=["resnet50", "vgg16"])
    parser.add_argument("--batches", nargs="+", type=int, default=[1, 32, 128])
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    import torch

    if not torch.cuda.is_available():
        print("no CUDA GPU: this check needs one", file=sys.stderr)
        return 2
    from cnnprofile.memory import memory

    device = torch.cuda.get_device_name()
    print(f"device: {device}; torch {torch.__version__}; cuDNN {torch.backends.cudnn.version()}")
    print(f"{'model':<10}{'batch':>6} {'mode':<10}{'amp':<6}{'predicted':>14}{'measured':>14}{'diff':>8}")
    rows = []
    for name in args.models:
        for batch in args.batches:
            for train in (False, True):
                for amp in (None, "bf16"):
                    measured = measure(name, batch, train, torch.bfloat16 if amp else None)
                    r = memory(f"torchvision:{name}", batch=batch, train=train, optimizer="adamw" if train else "none",
                               amp=amp, device="cuda")
                    diff = r.peak_bytes / measured - 1
                    row = {"device": device, "model": name, "batch": batch, "train": train, "amp": amp,
                           "predicted": r.peak_bytes, "measured": measured, "diff": round(diff, 4),
                           "workspace_predicted": r.workspace_bytes, "peak_phase": r.peak_phase,
                           "peak_layer": r.peak_layer}
                    rows.append(row)
                    print(f"{name:<10}{batch:>6} {'train' if train else 'inference':<10}{amp or 'fp32':<6}"
                          f"{r.peak_bytes / 1e6:>12.1f}MB{measured / 1e6:>12.1f}MB{100 * diff:>+7.1f}%", flush=True)
    if args.out:
        with open(args.out, "w") as f:
            f.writelines(json.dumps(r) + "\n" for r in rows)
    worst = max(rows, key=lambda r: abs(r["diff"]))
    print(f"largest difference: {100 * worst['diff']:+.1f}% ({worst['model']} batch {worst['batch']}, "
          f"{'train' if worst['train'] else 'inference'}, {worst['amp'] or 'fp32'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
