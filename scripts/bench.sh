#!/usr/bin/env bash
# `make bench`: LoRA training steps at full size, ours vs HF+PEFT at its best, side by side in one run.
# Builds a seeded random CSM-1B in HF format once (tools/.cache/, git-ignored), then at each decoder fraction
# runs ours (as `csm train` runs by default) and HF+PEFT with its base in bf16 (`model.to(torch.bfloat16)`, LoRA
# f32; with and without THP_MEM_ALLOC_ENABLE=1, the faster is the peer) and in f32, each in its own process so
# peak RSS is its own; then ours at the seed's real shape (batch 2 × accumulation 4 of 4-turn samples with 10 s
# turns). Checks that the f32 step-1 losses agree and appends the figures to BENCHMARKS.md, each also as a
# multiple of the GEMM floor at the GEMM rate ours measured in the same run.
#
#   STEPS=4 (the first is a warm-up)  FRACTIONS="1.0 0.0625"  THREADS=$(nproc)
#   HF_RUNS="bf16 bf16-thp f32" (any subset; default without bf16 arithmetic — no avx512_bf16/amx_bf16 — "f32 f32-thp":
#   there libtorch's bf16 input-gradient products run at ~0.3 GFLOP/s, hours per step, so its f32 base is its best)  SEED_SHAPE=1 (0 skips that row; SEED_STEPS=2, SEED_FRACTION=1.0)
#   PROFILE=1: ours also profiles one step per fraction (tools/bench/profile_summary.py prints where it went)
#   ours as `csm train` runs it by default; BASE_DTYPE=f32|bf16, MIXED_PRECISION=auto|bf16|no and
#   RECOMPUTE_MLP=none|depth|all set its --base_dtype / --mixed_precision / --recompute_mlp.
#   SCRATCH=.build (swift build's --scratch-path)
set -euo pipefail
cd "$(dirname "$0")/.."
PY=tools/.venv/bin/python
CACHE=tools/.cache/csm-random  # shared with scripts/bench_csm.sh (same seeded model)
THREADS=${THREADS:-$(nproc)}
STEPS=${STEPS:-4}
SCRATCH=${SCRATCH:-.build}
ours_options=()
[ -n "${BASE_DTYPE:-}" ] && ours_options+=(--base-dtype "$BASE_DTYPE")
[ -n "${MIXED_PRECISION:-}" ] && ours_options+=(--mixed-precision "$MIXED_PRECISION")
[ -n "${RECOMPUTE_MLP:-}" ] && ours_options+=(--recompute-mlp "$RECOMPUTE_MLP")
if [ -z "${HF_RUNS:-}" ]; then
  if grep -qwE 'avx512_bf16|amx_bf16' /proc/cpuinfo; then HF_RUNS="bf16 bf16-thp f32"; else
    HF_RUNS="f32 f32-thp"
    echo "[bench] no bf16 arithmetic on this CPU (no avx512_bf16/amx_bf16): HF+PEFT runs with its base in f32 (HF_RUNS=$HF_RUNS)"
  fi
fi
RESULTS=tools/.cache/train-bench
mkdir -p "$RESULTS"

[ -x "$PY" ] || { echo "run make venv first"; exit 1; }
echo "[bench] preparing $CACHE (first time: writes ~6 GB)"
$PY tools/bench/train_step.py prepare "$CACHE"
swift build -c release --scratch-path "$SCRATCH" --product csm-bench >/dev/null

files=()
profiles=()
for fraction in ${FRACTIONS:-1.0 0.0625}; do
  echo "[bench] decoder fraction $fraction: csm-swift"
  profile=()
  if [ "${PROFILE:-0}" = 1 ]; then profile=(--profile "$RESULTS/trace-$fraction.json"); profiles+=("$RESULTS/ours-$fraction.json"); fi
  "$SCRATCH/release/csm-bench" train "$CACHE" "$CACHE/train_sample.json" --steps "$STEPS" --decoder-fraction "$fraction" \
    --threads "$THREADS" ${ours_options[@]+"${ours_options[@]}"} ${profile[@]+"${profile[@]}"} | tee "$RESULTS/ours-$fraction.json"
  files+=("$RESULTS/ours-$fraction.json")
  for run in $HF_RUNS; do
    echo "[bench] decoder fraction $fraction: transformers+peft, $run"
    thp=0; [ "${run#*-}" = thp ] && thp=1
    THP_MEM_ALLOC_ENABLE=$thp $PY tools/bench/train_step.py run "$CACHE" --steps "$STEPS" --decoder-fraction "$fraction" \
      --threads "$THREADS" --base-dtype "${run%-thp}" | tail -1 | tee "$RESULTS/hf-$run-$fraction.json"
    files+=("$RESULTS/hf-$run-$fraction.json")
  done
done
if [ "${SEED_SHAPE:-1}" = 1 ]; then
  echo "[bench] the seed's shape: batch 2 × accumulation 4 of 4 turns × (20 text + 125 frames), csm-swift"
  "$SCRATCH/release/csm-bench" train "$CACHE" "$CACHE/train_sample_seed.json" --steps "${SEED_STEPS:-2}" \
    --decoder-fraction "${SEED_FRACTION:-1.0}" --batch-size 2 --accumulation 4 --threads "$THREADS" ${ours_options[@]+"${ours_options[@]}"} | tee "$RESULTS/ours-seed.json"
  files+=("$RESULTS/ours-seed.json")
fi
$PY tools/bench/train_summary.py "$THREADS" "$CACHE" "${files[@]}"
[ ${#profiles[@]} -gt 0 ] && $PY tools/bench/profile_summary.py "${profiles[@]}"
true
