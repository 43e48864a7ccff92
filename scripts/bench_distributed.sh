#!/usr/bin/env bash
# Data-parallel scaling on CPU: the same global batch trained by 1 process and by `--nproc 2`
# Gloo processes, on the tiny demo model and a mid-size random CSM (tools/bench/mid_model.py).
# Appends the table to BENCHMARKS.md.
#
#   STEPS=40 (the first 5 are not timed)
set -euo pipefail
cd "$(dirname "$0")/.."
PY=tools/.venv/bin/python
CACHE=tools/.cache/dist-bench
STEPS=${STEPS:-40}
CSM=.build/release/csm
[ -x "$PY" ] || { echo "run make venv first"; exit 1; }
swift build -c release --product csm >/dev/null
mkdir -p "$CACHE/runs"
$PY tools/bench/mid_model.py "$CACHE/mid-model" 2>/dev/null
if [ ! -f "$CACHE/preprocessed/manifest.json" ]; then
  rm -rf "$CACHE/data"
  scripts/make_demo_data.sh "$CACHE/data" >/dev/null
  $CSM preprocess --input_path "$CACHE/data/dataset" --output_path "$CACHE/preprocessed" \
    --model_id Tests/Fixtures/demo-model --num_context_turns 2 >/dev/null 2>&1
fi

train() { # name model extra-args...
  local name=$1 model=$2; shift 2
  rm -rf "$CACHE/runs/$name"
  echo "[bench] $name: $*" >&2
  $CSM train --preprocessed_path "$CACHE/preprocessed" --output_dir "$CACHE/runs/$name" --model_id "$model" \
    --max_steps "$STEPS" --gradient_accumulation_steps 1 --save_every 0 --gen_every 0 --device cpu \
    --lora_r 8 --lora_alpha 16 "$@" >/dev/null 2>"$CACHE/runs/$name.log"
}
for model in ${MODELS:-tiny mid}; do
  path=Tests/Fixtures/demo-model; [ $model = mid ] && path=$CACHE/mid-model
  train "$model-1proc-2threads" "$path" --batch_size 4 --threads 2
  train "$model-1proc-1thread" "$path" --batch_size 4 --threads 1
  train "$model-2proc" "$path" --batch_size 2 --nproc 2
done

python3 - "$CACHE/runs" "${MODELS:-tiny mid}" <<'PY'
import json, os, platform, statistics, sys, datetime
runs, models = sys.argv[1], sys.argv[2].split()
def rate(name):
    rows = [json.loads(l) for l in open(os.path.join(runs, name, "metrics.jsonl"))]
    return 1 / statistics.mean(r["s_per_step"] for r in rows[5:])
cpu = next((l.split(":")[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.machine())
load = " ".join(open("/proc/loadavg").read().split()[:3])
lines = [f"### {datetime.date.today()} — {cpu}, {os.cpu_count()} cores, load {load} at the end", "",
         "| model | 1 process, 2 threads | 1 process, 1 thread | 2 processes × 1 thread (Gloo) | 2 proc ÷ 1 proc (2 threads) | 2 proc ÷ 1 proc (1 thread) |",
         "|---|---:|---:|---:|---:|---:|"]
labels = {"tiny": "tiny (demo, 2×64)", "mid": "mid (37M: 8×512 + 4×256)"}
for model in models:
    label = labels[model]
    a, b, c = (rate(f"{model}-{k}") for k in ("1proc-2threads", "1proc-1thread", "2proc"))
    lines.append(f"| {label} | {a:.2f} steps/s | {b:.2f} steps/s | {c:.2f} steps/s | {c / a:.2f}× | {c / b:.2f}× |")
table = "\n".join(lines)
print(table)
# Into this benchmark's own section, after its earlier runs.
text = open("BENCHMARKS.md").read()
head = "## Data-parallel training (scripts/bench_distributed.sh)"
start = text.index(head)
end = text.find("\n## ", start + len(head))
end = len(text) if end < 0 else end
text = text[:end].rstrip("\n") + "\n\n" + table + "\n" + text[end:]
open("BENCHMARKS.md", "w").write(text)
PY
