"""GPU check of ``cnnprofile bench``: run on a machine with a CUDA GPU.

    python benchmarks/gpu_check.py [--min-time 1.0] [--out-dir reports/bench] [--no-compile]

1. resnet50, vgg16, googlenet, alexnet at batch 1, 8, 64, 256 in float32 and bfloat16, channels-last;
   resnet50 with torch.compile (bfloat16, channels-last) at the same batch sizes;
2. resnet50 at batch 256 (bfloat16, channels-last) timed by a raw loop of CUDA-graph replays written here
   independently of the harness, compared with the harness's throughput (goal: within 3%).

Results are appended to reports/bench/<UTC time>-cuda-gpu-check.jsonl; a summary with % of peak is printed, and
for every cell the average board power over its throughput window and the energy per image (NVML; "not
reported" where the board or the install gives no reading).
Exits with status 2 and one line on stderr where there is no CUDA GPU, 1 if the throughput check fails.
"""
from __future__ import annotations

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

MODELS = ("resnet50", "vgg16", "googlenet", "alexnet")
BATCHES = (1, 8, 64, 256)
TOLERANCE = 0.03


def raw_graph_throughput(model_name: str, batch: int, seconds: float) -> float:
    """Images/s of ``model_name`` from a plain loop of CUDA-graph replays, without the harness."""
    import torch

    from cnnprofile.sources import resolve_model

    source = resolve_model(model_name)
    torch.backends.cudnn.benchmark = True
    with torch.device("cuda"):
        model = source.build()
    model = model.eval().requires_grad_(False).to(torch.bfloat16).to(memory_format=torch.channels_last)
    x = torch.randn((batch, *source.input_size), device="cuda", dtype=torch.bfloat16)
    x = x.contiguous(memory_format=torch.channels_last)
    with torch.inference_mode():
        side = torch.cuda.Stream()
        side.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(side):
            for _ in range(5):
                model(x)
        torch.cuda.current_stream().wait_stream(side)
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(graph):
            model(x)
        for _ in range(20):
            graph.replay()
        torch.cuda.synchronize()
        t0 = time.perf_counter()
        graph.replay()
        torch.cuda.synchronize()
        n = max(20, int(seconds / max(time.perf_counter() - t0, 1e-6)))
        t0 = time.perf_counter()
        for _ in range(n):
            graph.replay()
        torch.cuda.synchronize()
        elapsed = time.perf_counter() - t0
    del graph, model, x
    torch.cuda.empty_cache()
    return n * batch / elapsed


def power_lines(results) -> list:
    """One line per cell: average board power (W) during the throughput window, energy per image and images/J."""
    lines = ["Power during the throughput window (NVML board power):"]
    for r in results:
        label = f"  {r.model} b{r.batch_size} {r.dtype}{' compiled' if r.compile else ''}"
        if not r.ok:
            lines.append(f"{label}: {r.status}")
        elif r.power_w is None:
            lines.append(f"{label}: power not reported")
        else:
            lines.append(f"{label}: {r.power_w:.1f} W, {1e3 * r.energy_per_image_j:.3f} mJ/image, "
                         f"{1 / r.energy_per_image_j:.1f} images/J")
    return lines


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--min-time", type=float, default=1.0, help="seconds per latency/throughput phase")
    parser.add_argument("--out-dir", default="reports/bench")
    parser.add_argument("--no-compile", action="store_true", help="skip the torch.compile sweep")
    parser.add_argument("--summary", default=None, help="also write the printed summary to this file")
    args = parser.parse_args(argv)

    import torch

    if not torch.cuda.is_available():
        print(f"Error: gpu_check needs a CUDA GPU; torch {torch.__version__} sees none", file=sys.stderr)
        return 2

    from cnnprofile.bench.backends import CudaBackend
    from cnnprofile.bench.env import utc_now
    from cnnprofile.bench.results import prepare_output
    from cnnprofile.bench.runner import BenchConfig, run_cell, run_sweep
    from cnnprofile.sources import resolve_models as resolve_sources
    from cnnprofile.present.bench_summary import render

    stamp = utc_now().replace("-", "").replace(":", "")
    path = prepare_output(os.path.join(args.out_dir, f"{stamp}-cuda-gpu-check.jsonl"))
    backend = CudaBackend()
    out = []
    everything = []

    def sweep(models, **kw):
        cfg = BenchConfig(batch_sizes=BATCHES, channels_last=True, min_time_s=args.min_time, **kw)
        results = run_sweep(resolve_sources(models), cfg, backend, path,
                            on_result=lambda r: print(f"  {r.model} b{r.batch_size} {kw}: {r.status}",
                                                      file=sys.stderr, flush=True))
        out.append(render(results, "markdown"))
        everything.extend(results)
        return results

    eager = {}
    for dtype in ("float32", "bfloat16"):
        for r in sweep(MODELS, dtype=dtype):
            eager[(r.model, r.batch_size, r.dtype)] = r
    if not args.no_compile:
        sweep(("resnet50",), dtype="bfloat16", compile=True)

    cfg = BenchConfig(batch_sizes=(256,), dtype="bfloat16", channels_last=True, cuda_graphs=True,
                      min_time_s=args.min_time)
    source = resolve_sources(["resnet50"])[0]
    backend.prepare()
    graphed = run_cell(source, 256, cfg, backend, backend.env())
    from cnnprofile.bench.results import append_result

    append_result(path, graphed)
    out.append(render([graphed], "markdown"))
    everything.append(graphed)
    raw = raw_graph_throughput("resnet50", 256, args.min_time * 2)
    lines = [f"Raw CUDA-graph replay loop, resnet50 batch 256 bfloat16 channels-last: {raw:.1f} images/s"]
    ok = graphed.ok
    for label, r in (("harness, CUDA graphs", graphed), ("harness, eager", eager.get(("resnet50", 256, "bfloat16")))):
        if r is not None and r.ok:
            diff = (r.throughput_ips - raw) / raw
            lines.append(f"{label}: {r.throughput_ips:.1f} images/s ({100 * diff:+.2f}% vs raw loop)")
            if label.endswith("graphs"):
                ok = ok and abs(diff) <= TOLERANCE
        elif r is not None:
            lines.append(f"{label}: {r.status} ({r.error})")
    lines.append(f"Throughput check (harness with CUDA graphs within {100 * TOLERANCE:.0f}% of the raw loop): "
                 f"{'PASS' if ok else 'FAIL'}")
    lines += power_lines(everything)
    text = "\n".join(out) + "\n" + "\n".join(lines) + "\n" + f"Results: {path}\n"
    print(text)
    if args.summary:
        with open(args.summary, "w", encoding="utf-8") as f:
            f.write(text)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
