#!/usr/bin/env bash
# WavLM x-vector throughput: Swift (csm-bench wavlm, clips batched longest first, per-clip masked statistics) vs
# transformers' WavLMForXVector (all clips in one padded batch, and one clip at a time), on the same ~60 s of
# espeak-ng speech in 2-10 s clips at 24 kHz (both sides resample to 16 kHz with soxr), CPU, f32. The
# wavlm-base-plus-sv-shaped random model and the clips are made once in tools/.cache/wavlm-bench (git-ignored).
# Also checks that both sides give the same x-vectors (against transformers one clip at a time).
#
# Usage: scripts/bench_wavlm.sh            (THREADS=N sets libtorch threads on both sides; REPEATS=N, default 2)
set -euo pipefail
cd "$(dirname "$0")/.."
PY=tools/.venv/bin/python
CACHE=tools/.cache/wavlm-bench
THREADS=${THREADS:-$(nproc)}
REPEATS=${REPEATS:-2}

[ -x "$PY" ] || { echo "bench_wavlm: missing $PY; run 'make venv' first" >&2; exit 1; }
[ -f "$CACHE/clips/clips.json" ] && [ -f "$CACHE/model/model.safetensors" ] || "$PY" tools/bench/wavlm.py prepare "$CACHE"

swift build -c release --product csm-bench ${SWIFT_FLAGS:-} >&2
BIN=$(swift build -c release --show-bin-path ${SWIFT_FLAGS:-})/csm-bench

echo "machine: $(nproc) cores, $(uname -m), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); threads $THREADS"
echo "date: $(date -u +%Y-%m-%dT%H:%MZ); load average: $(cut -d' ' -f1-3 /proc/loadavg)"
echo -n "swift: "; "$BIN" wavlm "$CACHE/model" "$CACHE/clips" --threads "$THREADS" --repeats "$REPEATS"
echo -n "hf:    "; THREADS=$THREADS "$PY" tools/bench/wavlm.py hf "$CACHE" 2>/dev/null
echo -n "same:  "; "$PY" tools/bench/wavlm.py compare "$CACHE"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
