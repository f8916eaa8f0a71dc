#!/usr/bin/env bash
# Rewrites the committed example reports in reports/ from the committed benchmark results. The tool's own
# defaults never write here (they write to the current directory), so this is the one command that does.
# Screenshots in docs/ (optional, needs Chromium; as root it also needs --no-sandbox):
#   reports/regenerate.sh --screenshots
set -euo pipefail
cd "$(dirname "$0")/.."
run() { echo "+ cnnprofile $*" >&2; python -m cnnprofile "$@"; }

run report --device-peak h200-sxm -o reports/zoo.html
run report --lecture --device-peak h200-sxm --bench reports/bench/20261128T061227Z-cuda-gpu-check.jsonl \
    -o reports/lecture-comparison.html
run report alexnet resnet18 --bench reports/bench/20261128T023216Z-cpu.jsonl \
    --title "AlexNet and ResNet-18 on a 2-core CPU" -o reports/bench-cpu.html

if [[ "${1:-}" == "--screenshots" ]]; then
  shot() {  # report, screenshot, height
    chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size="1280,$3" \
      --screenshot="docs/$2.png" "file://$PWD/reports/$1.html" 2>/dev/null  # its D-Bus chatter
  }
  shot zoo report-zoo 2200
  shot lecture-comparison report-lecture 3700
fi
