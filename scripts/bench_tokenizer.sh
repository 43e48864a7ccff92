#!/usr/bin/env bash
# Tokenizer encoding speed: ours (release `csm-bench tokenizer`) against `tokenizers` through Python, each pinned to one
# core, on the same paragraphs. Extra arguments go to `csm-bench tokenizer` (e.g. --text-in FILE, --megabytes N).
#
#   scripts/bench_tokenizer.sh [MODEL_DIR] [csm-bench tokenizer options]
set -euo pipefail
cd "$(dirname "$0")/.."
model=${1:-Tests/Fixtures/tokenizer}
shift || true
swift build -c release --product csm-bench >/dev/null
bin=$(swift build -c release --show-bin-path)/csm-bench
paragraphs=$(mktemp)
trap 'rm -f "$paragraphs"' EXIT
pin() { if command -v taskset >/dev/null; then taskset -c 0 "$@"; else "$@"; fi; }
pin "$bin" tokenizer --model_id "$model" --text-out "$paragraphs" "$@"
TOKENIZERS_PARALLELISM=false pin tools/.venv/bin/python tools/bench/tokenizer.py "$model" "$paragraphs"
