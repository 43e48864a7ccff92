#!/usr/bin/env bash
# Whisper transcription throughput: Swift (csm-bench whisper) vs transformers (WhisperFeatureExtractor + generate +
# batch_decode), both given all clips as one batch, f32, CPU, on the same ~60 s of espeak-ng speech in 2-10 s clips.
# The Whisper-base-shaped model (seeded random weights, real sizes and token layout) and the clips are made once in
# tools/.cache/whisper-bench (git-ignored). Also checks that both sides produce the same token ids and texts.
#
# Usage: scripts/bench_whisper.sh          (THREADS=N sets libtorch threads on both sides; REPEATS=N, default 2;
#                                            WHISPER_LANGUAGE=detect for language detection, default en;
#                                            CACHE=DIR puts the model and clips elsewhere)
set -euo pipefail
cd "$(dirname "$0")/.."
PY=tools/.venv/bin/python
CACHE=${CACHE:-tools/.cache/whisper-bench}
THREADS=${THREADS:-$(nproc)}
REPEATS=${REPEATS:-2}
WHISPER_LANGUAGE=${WHISPER_LANGUAGE:-en}

[ -x "$PY" ] || { echo "bench_whisper: missing $PY; run 'make venv' first" >&2; exit 1; }
[ -f "$CACHE/clips/clips.json" ] && [ -f "$CACHE/model/model.safetensors" ] || "$PY" tools/bench/whisper.py prepare "$CACHE"

swift build -c release --product csm-bench ${SWIFT_FLAGS:-} >&2
BIN=$(swift build -c release --show-bin-path ${SWIFT_FLAGS:-})/csm-bench

echo "machine: $(nproc) cores, $(uname -m), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); threads $THREADS"
echo "date: $(date -u +%Y-%m-%dT%H:%MZ); load average: $(cut -d' ' -f1-3 /proc/loadavg)"
echo -n "swift: "; "$BIN" whisper "$CACHE/model" "$CACHE/clips" --threads "$THREADS" --repeats "$REPEATS" --language "$WHISPER_LANGUAGE"
echo -n "hf:    "; THREADS=$THREADS REPEATS=$REPEATS WHISPER_LANGUAGE=$WHISPER_LANGUAGE "$PY" tools/bench/whisper.py hf "$CACHE" 2>/dev/null
echo -n "same:  "; "$PY" tools/bench/whisper.py compare "$CACHE"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
