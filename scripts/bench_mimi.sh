#!/usr/bin/env bash
# Mimi encode/decode throughput: Swift (csm-bench mimi, all clips in one batched call) vs transformers'
# MimiModel.encode/decode one clip at a time, on the same ~60 s of espeak-ng speech in 2-10 s clips, CPU.
# The full-size model (default MimiConfig, seeded random weights) and the clips are made once in
# tools/.cache/mimi-bench (git-ignored). Also checks that both sides produce the same codes.
#
# Usage: scripts/bench_mimi.sh            (THREADS=N sets libtorch threads on both sides; REPEATS=N, default 2)
set -euo pipefail
cd "$(dirname "$0")/.."
PY=tools/.venv/bin/python
CACHE=tools/.cache/mimi-bench
THREADS=${THREADS:-$(nproc)}
REPEATS=${REPEATS:-2}

[ -x "$PY" ] || { echo "bench_mimi: missing $PY; run 'make venv' first" >&2; exit 1; }
[ -f "$CACHE/clips/clips.json" ] && [ -f "$CACHE/model/model.safetensors" ] || "$PY" tools/bench/mimi.py prepare "$CACHE"

swift build -c release --product csm-bench ${SWIFT_FLAGS:-} >&2
BIN=$(swift build -c release --show-bin-path ${SWIFT_FLAGS:-})/csm-bench

echo "machine: $(nproc) cores, $(uname -m), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); threads $THREADS"
echo "date: $(date -u +%Y-%m-%dT%H:%MZ); load average: $(cut -d' ' -f1-3 /proc/loadavg)"
echo -n "swift: "; "$BIN" mimi "$CACHE/model" "$CACHE/clips" --threads "$THREADS" --repeats "$REPEATS"
echo -n "hf:    "; THREADS=$THREADS "$PY" tools/bench/mimi.py hf "$CACHE" 2>/dev/null
echo -n "codes: "; "$PY" tools/bench/mimi.py compare "$CACHE"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
