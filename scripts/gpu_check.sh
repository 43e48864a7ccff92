#!/usr/bin/env bash
# The one prepared script for a borrowed GPU machine (issue #18 item 4): one NVIDIA GPU, CUDA 13, Python 3.12
# with torch 2.11.0+cu130, transformers, peft, tokenizers, safetensors; no Swift toolchain, no network; this
# working tree copied there (≤ 64 MiB) with the binaries built beforehand by scripts/build_for_device.sh.
# In about 8 minutes it:
#   (a) checks the tiny-fixture parity on CUDA: `csm eval` loss cuda vs cpu (≤ 1e-4 rel., f32); the 5 LoRA
#       steps of Tests/Fixtures/train on cuda vs HF+PEFT on the same GPU (losses ≤ 1e-3 rel.); greedy codes of
#       csm's Generator (csm-bench generation --greedy, what `csm generate --topk 1` runs) equal to transformers'
#       generate on cuda;
#   (b) measures the full-size side by side on a random CSM-1B (written there by tools/bench/generation.py
#       --write): LoRA s/step and peak GPU memory, ours vs HF+PEFT, bf16 base, same batch (8 clips of 10 s at
#       decoder fraction 1 and 1/16; 1 clip), and generation frames/s and first-frame time vs transformers'
#       generate with its static cache;
#   (c) trains over NCCL with world size 1 (csm train --nproc 1) and compares with the same run without --nproc;
#   (c') trains 3 LoRA steps with bf16 compute (--mixed_precision bf16) and with the exact f32 path; step-1 losses
#        within 3e-3 rel., s/step of both (issue #21);
#   (d) writes $OUT/gpu_check.json and $OUT/gpu_check.md (a table ready for BENCHMARKS.md).
# It first builds the CUDA companion (libctorch_cuda.so) against that machine's torch when a C++ compiler and
# the CUDA/NCCL headers are there (else the carried one is used, if any).
#
#   scripts/gpu_check.sh                 # on the GPU machine, from the repository root
#   scripts/gpu_check.sh --dry-run       # here: every part that can run on a CPU (tiny model, cpu device,
#                                        # the Python reference on the CPU, the companion's presence check,
#                                        # the JSON and the table); make test runs it
# Environment: OUT (default ./gpu-check-out), BIN (the binaries; default .build/device/bin, or .build/debug for
# --dry-run), PYTHON (default python3, or tools/.venv/bin/python for --dry-run).
set -euo pipefail
cd "$(dirname "$0")/.."
dry=0
args=()
for a in "$@"; do
  case "$a" in
    --dry-run) dry=1 ;;
    -h|--help) sed -n '2,25p' "$0"; exit 0 ;;
    *) args+=("$a") ;;
  esac
done
say() { printf '[gpu_check] %s\n' "$*"; }
OUT=${OUT:-$PWD/gpu-check-out}
mkdir -p "$OUT"

if [ $dry = 1 ]; then
  BIN=${BIN:-.build/debug}
  PYTHON=${PYTHON:-tools/.venv/bin/python}
  device=cpu
else
  BIN=${BIN:-.build/device/bin}
  PYTHON=${PYTHON:-python3}
  device=cuda
  if [ ! -x "$BIN/csm" ] && [ -f .build/device/csm-device.tar.xz ]; then
    say "unpacking .build/device/csm-device.tar.xz"
    tar -xJf .build/device/csm-device.tar.xz -C .build/device
  fi
fi
for tool in csm csm-bench; do
  [ -x "$BIN/$tool" ] || { say "no $BIN/$tool: run scripts/build_for_device.sh (or swift build for --dry-run) first"; exit 1; }
done

if [ $dry = 0 ]; then
  # The binaries were linked against another folder's libtorch; here they run with this Python's torch (the
  # same version), found through LD_LIBRARY_PATH (their RUNPATH comes after it), and the libraries carried
  # beside them (libsndfile, libsoxr).
  torch=$("$PYTHON" -c 'import os, torch; print(os.path.dirname(torch.__file__))')
  export LD_LIBRARY_PATH="$torch/lib:$BIN/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>/dev/null | sed 's/^/[gpu_check] /' || true
  if command -v "${CXX:-c++}" >/dev/null; then
    if TORCH="$torch" OUT_DIR="$BIN" LIBTORCH="$torch" scripts/build_cuda_companion.sh > "$OUT/companion-build.log" 2>&1; then
      say "companion built against $torch"
    else
      say "companion not built here (see $OUT/companion-build.log); using $BIN/libctorch_cuda.so if carried"
    fi
  fi
  export CSM_CTORCH_CUDA="$BIN/libctorch_cuda.so"
fi

# The companion's presence is checked with csm-bench devices in both modes (here: built by make test, and it
# must report "no CUDA device" cleanly).
if [ $dry = 1 ] && [ -z "${CSM_CTORCH_CUDA:-}" ] && [ -f "$BIN/libctorch_cuda.so" ]; then export CSM_CTORCH_CUDA="$BIN/libctorch_cuda.so"; fi
dry_flag=()
[ $dry = 1 ] && dry_flag=(--dry-run)
exec "$PYTHON" tools/gpu_check/run.py --bin "$BIN" --out "$OUT" --device "$device" "${dry_flag[@]}" "${args[@]}"
