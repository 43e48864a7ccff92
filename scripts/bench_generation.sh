#!/usr/bin/env bash
# Generation speed, ours vs transformers in the same run: 125 frames (10 s of audio) from the full-size CSM-1B
# architecture with random weights, on the same prompt, top-k 50 / temperature 0.9, CPU.
#   scripts/bench_generation.sh [MODEL_DIR] [DTYPE]   (MODEL_DIR default .bench-cache/csm-1b-random, written if missing)
set -euo pipefail
cd "$(dirname "$0")/.."
model=${1:-.bench-cache/csm-1b-random}
dtype=${2:-f32}
frames=${FRAMES:-125}
threads=${THREADS:-$(nproc)}
swift build -c release --product csm-bench >/dev/null
bin=$(swift build -c release --show-bin-path)/csm-bench
tools/.venv/bin/python tools/bench/generation.py --model "$model" --write --frames 1 --threads "$threads" >/dev/null 2>&1
"$bin" generation --model "$model" --frames "$frames" --dtype "$dtype" --threads "$threads"
tools/.venv/bin/python tools/bench/generation.py --model "$model" --frames "$frames" --dtype "$dtype" \
  --threads "$threads" 2>/dev/null | grep '^transformers'
