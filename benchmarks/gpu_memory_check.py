"""GPU check of ``cnnprofile memory --device cuda``: predicted peak against ``torch.cuda.max_memory_allocated()``.

    python benchmarks/gpu_memory_check.py [--out measured.jsonl]      # on a CUDA machine: measure, then compare
    python benchmarks/gpu_memory_check.py --compare measured.jsonl    # anywhere: predict and compare
    python benchmarks/gpu_memory_check.py --models vgg16 --cudnn-benchmark --out vgg16-benchmark.jsonl

For ResNet-50 and VGG-16 (torchvision, random weights) at batches 1, 32 and 128, inference and one adamw training
step, float32 and autocast bf16 (float32 weights): each case runs in a fresh process (library workspaces persist
per process and thread, so one case must not inherit another's), builds the model on the GPU, runs one warm-up
step (optimizer state, cuBLAS/cuDNN workspaces), resets the peak statistics, runs the measured step and records
``torch.cuda.max_memory_allocated()``. The prediction is ``cnnprofile.analyses.memory.memory(f"torchvision:{name}",
batch=..., train=..., optimizer="adamw" if train else "none", amp="bf16" or None, device="cuda").peak_bytes``.
Goal: within 10%. Results of a run: docs/data/gpu_memory_h200_measured.jsonl, docs/memory.md.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
sys.path.insert(0, ROOT)
CASES = [(name, batch, train, amp) for name in ("resnet50", "vgg16") for batch in (1, 32, 128)
         for train in (False, True) for amp in (False, True)]


def measure(name: str, batch: int, train: bool, amp: bool, cudnn_benchmark: bool = False) -> dict:
    import torch
    import torchvision

    torch.backends.cudnn.benchmark = cudnn_benchmark
    torch.manual_seed(0)
    model = getattr(torchvision.models, name)(weights=None).cuda().train(train)
    x = torch.randn(batch, 3, 224, 224, device="cuda")
    target = torch.zeros(batch, dtype=torch.long, device="cuda")
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3) if train else None  # foreach: torch's CUDA default

    def step():
        if not train:
            with torch.no_grad(), torch.autocast("cuda", dtype=torch.bfloat16, enabled=amp):
                out = model(x)
            del out
            return
        with torch.autocast("cuda", dtype=torch.bfloat16, enabled=amp):
            out = model(x)
            loss = torch.nn.functional.cross_entropy(out, target)
        loss.backward()
        del loss, out
        opt.step()
        opt.zero_grad(set_to_none=True)

    step()
    torch.cuda.synchronize()
    before = torch.cuda.memory_allocated()
    torch.cuda.reset_peak_memory_stats()
    step()
    torch.cuda.synchronize()
    return {"device": torch.cuda.get_device_name(), "torch": torch.__version__,
            "cudnn": torch.backends.cudnn.version(), "model": name, "batch": batch, "train": train, "amp": amp,
            "cudnn_benchmark": cudnn_benchmark, "measured": torch.cuda.max_memory_allocated(), "before": before}


def compare(rows: list) -> None:
    from cnnprofile.analyses.memory import memory

    print(f"{'model':<10}{'batch':>6} {'mode':<10}{'amp':<6}{'predicted':>14}{'measured':>14}{'diff':>8}")
    worst = None
    for r in rows:
        p = memory(f"torchvision:{r['model']}", batch=r["batch"], train=r["train"],
                   optimizer="adamw" if r["train"] else "none", amp="bf16" if r["amp"] else None, device="cuda")
        diff = p.peak_bytes / r["measured"] - 1
        worst = max(worst or (diff, r), (diff, r), key=lambda d: abs(d[0]))
        print(f"{r['model']:<10}{r['batch']:>6} {'train' if r['train'] else 'inference':<10}"
              f"{'bf16' if r['amp'] else 'fp32':<6}{p.peak_bytes / 1e6:>12.1f}MB{r['measured'] / 1e6:>12.1f}MB"
              f"{100 * diff:>+7.1f}%", flush=True)
    print(f"device: {rows[0]['device']} (torch {rows[0]['torch']}, cuDNN {rows[0]['cudnn']}); largest difference "
          f"{100 * worst[0]:+.1f}%")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", default=None, help="write the measurements here (JSON lines)")
    parser.add_argument("--compare", default=None, metavar="JSONL", help="only predict and compare these")
    parser.add_argument("--cudnn-benchmark", action="store_true",
                        help="measure with torch.backends.cudnn.benchmark on (cuDNN then times its algorithms and "
                             "may pick ones with larger workspaces)")
    parser.add_argument("--models", default="resnet50,vgg16", help="comma-separated (default: %(default)s)")
    parser.add_argument("--case", nargs=5, default=None, help=argparse.SUPPRESS)  # child process: one case
    args = parser.parse_args()
    if args.compare:
        with open(args.compare) as f:
            compare([json.loads(line) for line in f if line.strip()])
        return 0
    import torch

    if not torch.cuda.is_available():
        print("no CUDA GPU: this check needs one (use --compare FILE to compare saved measurements)", file=sys.stderr)
        return 2
    if args.case:
        name, batch, train, amp, benchmark = args.case
        print(json.dumps(measure(name, int(batch), train == "1", amp == "1", benchmark == "1")))
        return 0
    rows = []
    for name, batch, train, amp in CASES:
        if name not in args.models.split(","):
            continue
        out = subprocess.run([sys.executable, __file__, "--case", name, str(batch), str(int(train)), str(int(amp)),
                              str(int(args.cudnn_benchmark))], check=True, capture_output=True, text=True).stdout
        rows.append(json.loads(out.strip().splitlines()[-1]))
    if args.out:
        with open(args.out, "w") as f:
            f.writelines(json.dumps(r) + "\n" for r in rows)
    compare(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
