#!/usr/bin/env bash
# The speed predictor's GPU proof in one run, on a machine with a CUDA GPU (about seven minutes on an H200, estimated):
#   1. the 40 cells registered in reports/predict/gpu-preregistered.json, timed with bench's harness, then scored
#      against the predictions registered before them (benchmarks/predict_gpu_check.py);
#   2. VGG-16's peak memory with torch.backends.cudnn.benchmark on, against the prediction (whose cuDNN
#      workspace ratio was read off runs with it off): the data for modelling that workspace;
#   3. which kernel classes the predictor gets wrong on this card: every leaf layer timed with CUDA events
#      (benchmarks/layer_times.py --predict) next to its predicted time, summed per dominant kernel class, for
#      the zoo's ResNet-50 (the one the H200 bench runs timed) and every fifth registered model from the first
#      (a rule, not a choice), batch 256, float16, NCHW. A failure here loses only its own model.
# Needs this package's Python dependencies and timm 1.0.31 or later (models the run's timm lacks are named and
# left out, then scored as missing); timm is pure Python, so its wheel can travel with the tree.
# Usage: bash benchmarks/gpu_predict_proof.sh OUTDIR
set -euo pipefail
out="${1:?usage: gpu_predict_proof.sh OUTDIR}"
mkdir -p "$out"
stamp="$(date -u +%Y%m%dT%H%M%SZ)"
python benchmarks/predict_gpu_check.py --measure "$out/$stamp-cuda-predict-check.jsonl" \
  --out "$out/$stamp-predict-check-scores.json" 2>&1 | tee "$out/$stamp-predict-check.log"
python benchmarks/gpu_memory_check.py --models vgg16 --cudnn-benchmark \
  --out "$out/$stamp-vgg16-cudnn-benchmark.jsonl" 2>&1 | tee "$out/$stamp-vgg16-cudnn-benchmark.log"
models="resnet50 $(python -c "import json; m = json.load(open('reports/predict/gpu-preregistered.json'))['models']; print(' '.join('timm:' + x for x in m[::5]))")"
for m in $models; do
  python benchmarks/layer_times.py "$m" --batch 256 --dtype float16 --no-channels-last --reps 20 --warmup 5 \
    --predict --out "$out/$stamp-layers-${m#timm:}.json" >> "$out/$stamp-layers.log" 2>&1 \
    || echo "layer comparison of $m failed (see $stamp-layers.log)" | tee -a "$out/$stamp-layers.log"
done
grep -h -A12 "^Predicted" "$out/$stamp-layers.log" || true
