#!/usr/bin/env bash
# The speed predictor's GPU proof in one run, on a machine with a CUDA GPU (about six minutes on an H200):
#   1. the 40 cells registered in reports/predict/gpu-preregistered.json, timed with bench's harness, then scored
#      against the predictions registered before them (benchmarks/predict_gpu_check.py);
#   2. VGG-16's peak memory with torch.backends.cudnn.benchmark on, against the prediction (whose cuDNN
#      workspace ratio was read off runs with it off): the data for modelling that workspace.
# Usage: bash benchmarks/gpu_predict_proof.sh OUTDIR
set -euo pipefail
out="${1:?usage: gpu_predict_proof.sh OUTDIR}"
mkdir -p "$out"
stamp="$(date -u +%Y%m%dT%H%M%SZ)"
python benchmarks/predict_gpu_check.py --measure "$out/$stamp-cuda-predict-check.jsonl" \
  --out "$out/$stamp-predict-check-scores.json" 2>&1 | tee "$out/$stamp-predict-check.log"
python benchmarks/gpu_memory_check.py --models vgg16 --cudnn-benchmark \
  --out "$out/$stamp-vgg16-cudnn-benchmark.jsonl" 2>&1 | tee "$out/$stamp-vgg16-cudnn-benchmark.log"
