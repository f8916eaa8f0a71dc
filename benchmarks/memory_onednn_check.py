"""CPU memory predictions at PyTorch's default settings against the CPU allocator, with and without the model of
oneDNN's temporaries (``cnnprofile/analyses/memory/cpu_onednn.py``).

Each network runs one real step on this CPU under ``torch.profiler`` (``tests/memory_oracle.py``: inference, or
an SGD training step with the output's sum or cross-entropy as loss) and is predicted for ``--device cpu``
twice: as shipped, and with the oneDNN model switched off (what the tool predicted before it). Writes a JSON
report and prints a markdown table. ``ONEDNN_MAX_CPU_ISA=AVX2`` in the environment checks the AVX2 kernels on
an AVX-512 machine.

    python benchmarks/memory_onednn_check.py --out reports/memory/onednn-check.json
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests"))  # the allocator oracle and the test U-Net


def _cases():
    import torchvision

    tv = torchvision.models

    def seg(name):
        build = getattr(tv.segmentation, name)

        def make():
            import torch

            class Out(torch.nn.Module):
                def __init__(self):
                    super().__init__()
                    self.model = build(weights=None, weights_backbone=None, aux_loss=False)

                def forward(self, x):
                    return self.model(x)["out"]
            return Out()
        return make

    def named(name, **kw):
        return lambda: tv.get_model(name, weights=None, **kw)

    image, small = (2, 3, 224, 224), (2, 3, 96, 96)
    inception = dict(aux_logits=False, init_weights=False)
    inference = [(name, seg(name), (1, 3, size, size)) for name in ("fcn_resnet50", "deeplabv3_resnet50")
                 for size in (64, 256, 520)]
    inference += [("lraspp_mobilenet_v3_large", named("lraspp_mobilenet_v3_large", weights_backbone=None), image),
                  ("r3d_18", named("r3d_18"), (2, 3, 4, 56, 56)), ("r3d_18", named("r3d_18"), (1, 3, 8, 112, 112)),
                  ("mc3_18", named("mc3_18"), (2, 3, 4, 56, 56)),
                  ("r2plus1d_18", named("r2plus1d_18"), (2, 3, 4, 56, 56)), ("s3d", named("s3d"), (2, 3, 16, 224, 224))]
    inference += [(n, named(n), image) for n in
                  ("resnet50", "vgg16", "alexnet", "densenet121", "resnext50_32x4d", "wide_resnet50_2", "mobilenet_v2",
                   "mobilenet_v3_large", "efficientnet_b0", "efficientnet_v2_s", "regnet_y_400mf", "regnet_x_800mf",
                   "shufflenet_v2_x1_0", "squeezenet1_1", "mnasnet1_0", "convnext_tiny", "maxvit_t", "swin_t",
                   "vit_b_16")]
    inference += [(n, named(n), (1, 3, 224, 224)) for n in ("resnet18", "efficientnet_b0", "alexnet")]
    inference += [("googlenet", named("googlenet", **inception), image),
                  ("inception_v3", named("inception_v3", **inception), (2, 3, 299, 299))]
    training = [(n, named(n), (2, 3, 4, 56, 56)) for n in ("r3d_18", "mc3_18", "r2plus1d_18")]
    training += [("r3d_18", named("r3d_18"), (4, 3, 8, 64, 64)),
                 ("r2plus1d_18", named("r2plus1d_18"), (2, 3, 8, 64, 64)),
                 ("resnet18", named("resnet18"), (1, 3, 224, 224))]
    training += [(n, named(n), image) for n in
                 ("resnet50", "vgg16", "alexnet", "densenet121", "resnext50_32x4d", "mobilenet_v2",
                  "mobilenet_v3_large", "efficientnet_b0", "regnet_y_400mf", "shufflenet_v2_x1_0", "squeezenet1_1",
                  "convnext_tiny")]
    training += [("googlenet", named("googlenet", **inception), image),
                 ("inception_v3", named("inception_v3", **inception), (2, 3, 299, 299)),
                 ("efficientnet_b0", named("efficientnet_b0"), small)]
    from test_memory_cpu_conv import TinyUNet  # two 2x2 stride-2 transposed convolutions up

    inference += [("unet (tests/test_memory_cpu_conv.py)", TinyUNet, (4, 3, 64, 64))]
    training += [("unet (tests/test_memory_cpu_conv.py)", TinyUNet, (4, 3, 64, 64))]
    return [(n, m, s, False) for n, m, s in inference] + [(n, m, s, True) for n, m, s in training]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default=None, help="write the JSON report here")
    ap.add_argument("--only", default=None, help="comma-separated network names")
    args = ap.parse_args(argv)

    import torch
    from memory_oracle import measured_peak

    from cnnprofile.analyses.memory import cpu_onednn, memory

    width = cpu_onednn.vector_width
    rows = []
    started = time.time()
    for name, make, shape, train in _cases():
        if args.only and name not in args.only.split(","):
            continue
        torch.manual_seed(0)
        model = make()
        x = torch.randn(shape)
        opt = torch.optim.SGD(model.parameters(), lr=0.01, foreach=False) if train else None
        measured = measured_peak(model, x, train=train, optimizer=opt)
        model.zero_grad(set_to_none=True)
        kw = dict(train=train, optimizer="sgd" if train else "none", device="cpu")
        after = memory(model, shape, **kw).peak_bytes
        cpu_onednn.vector_width = lambda: None  # the prediction without the oneDNN model
        try:
            before = memory(model, shape, **kw).peak_bytes
        finally:
            cpu_onednn.vector_width = width
        row = dict(model=name, input=list(shape), step="training" if train else "inference", measured=measured,
                   before=before, after=after, before_error=(before - measured) / measured,
                   after_error=(after - measured) / measured)
        rows.append(row)
        print(f"| {name} | {'x'.join(map(str, shape))} | {row['step']} | {measured:,} | {row['before_error']:+.2%} | "
              f"{row['after_error']:+.2%} |", flush=True)
    report = dict(
        what="CPU allocator peak (torch.profiler memory events) vs cnnprofile memory --device cpu, random weights",
        machine=dict(cpu=platform.processor() or platform.machine(), threads=torch.get_num_threads(),
                     capability=torch.backends.cpu.get_cpu_capability(),
                     onednn_max_cpu_isa=os.environ.get("ONEDNN_MAX_CPU_ISA"), vector_width=width()),
        torch=torch.__version__, seconds=round(time.time() - started, 1), rows=rows,
        exact_after=sum(r["after"] == r["measured"] for r in rows),
        within_half_percent_after=sum(abs(r["after_error"]) <= 0.005 for r in rows), total=len(rows))
    print(f"exact: {report['exact_after']} of {len(rows)}; within 0.5%: {report['within_half_percent_after']}")
    if args.out:
        os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
        with open(args.out, "w") as f:
            json.dump(report, f, indent=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
