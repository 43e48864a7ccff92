#!/usr/bin/env bash
# `make bench`: LoRA training steps at full size, ours vs HF+PEFT, side by side in one run.
# Builds a seeded random CSM-1B in HF format once (tools/.cache/, git-ignored), then alternates
# the two implementations (each in its own process, so peak RSS is its own) at each decoder
# fraction, checks that their step-1 losses agree, and appends the figures to BENCHMARKS.md.
#
#   STEPS=4 (the first is a warm-up)  FRACTIONS="1.0 0.0625"  THREADS=$(nproc)
#   ours as `csm train` runs it by default; BASE_DTYPE=f32|bf16 and RECOMPUTE_MLP=none|depth|all
#   set its --base_dtype / --recompute_mlp. SCRATCH=.build (swift build's --scratch-path)
set -euo pipefail
cd "$(dirname "$0")/.."
PY=tools/.venv/bin/python
CACHE=tools/.cache/csm-random  # shared with scripts/bench_csm.sh (same seeded model)
THREADS=${THREADS:-$(nproc)}
STEPS=${STEPS:-4}
SCRATCH=${SCRATCH:-.build}
ours_options=()
[ -n "${BASE_DTYPE:-}" ] && ours_options+=(--base-dtype "$BASE_DTYPE")
[ -n "${RECOMPUTE_MLP:-}" ] && ours_options+=(--recompute-mlp "$RECOMPUTE_MLP")
RESULTS=tools/.cache/train-bench
mkdir -p "$RESULTS"

[ -x "$PY" ] || { echo "run make venv first"; exit 1; }
echo "[bench] preparing $CACHE (first time: writes ~6 GB)"
$PY tools/bench/train_step.py prepare "$CACHE"
swift build -c release --scratch-path "$SCRATCH" --product csm-bench >/dev/null

files=()
for fraction in ${FRACTIONS:-1.0 0.0625}; do
  echo "[bench] decoder fraction $fraction: csm-swift"
  "$SCRATCH/release/csm-bench" train "$CACHE" "$CACHE/train_sample.json" --steps "$STEPS" --decoder-fraction "$fraction" \
    --threads "$THREADS" ${ours_options[@]+"${ours_options[@]}"} | tee "$RESULTS/ours-$fraction.json"
  echo "[bench] decoder fraction $fraction: transformers+peft"
  $PY tools/bench/train_step.py run "$CACHE" --steps "$STEPS" --decoder-fraction "$fraction" --threads "$THREADS" \
    | tail -1 | tee "$RESULTS/hf-$fraction.json"
  files+=("$RESULTS/ours-$fraction.json" "$RESULTS/hf-$fraction.json")
done
$PY tools/bench/train_summary.py "$THREADS" "${files[@]}"
