#!/usr/bin/env bash
# CSM forward+backward benchmark (BENCHMARKS.md): one LoRA (r=32, q/k/v/o/gate/up/down of backbone and depth
# decoder) forward+backward of the full-size CSM-1B architecture with random f32 weights on CPU, csm-swift and
# transformers+PEFT on the same sample, one after the other. Usage: scripts/bench_csm.sh [THREADS]
set -euo pipefail
cd "$(dirname "$0")/.."
THREADS=${1:-2}
DIR=tools/.cache/csm-random
PY=tools/.venv/bin/python
swift build -c release --product csm-bench --scratch-path .build-csm-release >/dev/null
BIN=.build-csm-release/release/csm-bench
$PY tools/bench/csm_forward_backward.py prepare "$DIR"
cat "$DIR/model.safetensors" > /dev/null  # same warm page cache for both sides
"$BIN" forward-backward "$DIR" "$DIR/sample.json" --threads "$THREADS" --repeats 2
$PY tools/bench/csm_forward_backward.py run "$DIR" --threads "$THREADS" --repeats 2 2>/dev/null
"$BIN" forward-backward "$DIR" "$DIR/sample.json" --threads "$THREADS" --repeats 2 --dtype bf16
