#!/usr/bin/env bash
# `make bench`: LoRA training steps at full size, ours vs HF+PEFT, side by side in one run.
# Builds a seeded random CSM-1B in HF format once (tools/.cache/, git-ignored), then alternates
# the two implementations (each in its own process, so peak RSS is its own) at decoder fraction 1
# and 1/16, checks that their step-1 losses agree, and appends the figures to BENCHMARKS.md.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=tools/.venv/bin/python
CACHE=tools/.cache/csm-random  # shared with scripts/bench_csm.sh (same seeded model)
THREADS=${THREADS:-$(nproc)}
STEPS=${STEPS:-4}      # the first is a warm-up
# FRACTIONS="1.0 0.0625" (default): decoder fractions to measure

[ -x "$PY" ] || { echo "run make venv first"; exit 1; }
echo "[bench] preparing $CACHE (first time: writes ~6 GB)"
$PY tools/bench/train_step.py prepare "$CACHE"
swift build -c release --product train-bench >/dev/null
BIN=.build/release/train-bench

results=()
for fraction in ${FRACTIONS:-1.0 0.0625}; do
  echo "[bench] decoder fraction $fraction: csm-swift"
  ours=$($BIN "$CACHE" "$CACHE/train_sample.json" --steps "$STEPS" --decoder-fraction $fraction --threads "$THREADS")
  echo "$ours"
  echo "[bench] decoder fraction $fraction: transformers+peft"
  theirs=$($PY tools/bench/train_step.py run "$CACHE" --steps "$STEPS" --decoder-fraction $fraction --threads "$THREADS" | tail -1)
  echo "$theirs"
  results+=("$ours" "$theirs")
done

$PY - "$THREADS" "${results[@]}" <<'PY'
import json, platform, subprocess, sys, datetime
threads, *rows = sys.argv[1:]
rows = [json.loads(r) for r in rows]
cpu = subprocess.run(["sh", "-c", "lscpu | sed -n 's/^Model name: *//p'"], capture_output=True, text=True).stdout.strip()
mem = int(open("/proc/meminfo").readline().split()[1]) // 1024 // 1024
load = open("/proc/loadavg").read().split()[:3]
lines = [f"\n### {datetime.date.today()} — {cpu or platform.machine()}, {subprocess.getoutput('nproc')} cores, {mem} GiB, "
         f"{threads} threads, load {' '.join(load)}\n",
         "| decoder fraction | ours s/step | HF+PEFT s/step | speed-up | ours peak RSS | HF peak RSS | RSS ratio | step-1 loss ours / HF |",
         "|---|---:|---:|---:|---:|---:|---:|---|"]
ok = True
for ours, theirs in zip(rows[::2], rows[1::2]):
    f = ours["decoder_fraction"]
    speed = theirs["s_per_step"] / ours["s_per_step"]
    rss = ours["peak_rss_bytes"] / theirs["peak_rss_bytes"]
    l1, l2 = ours["losses"][0], theirs["losses"][0]
    if f == 1.0 and abs(l1 - l2) > 1e-3 * max(1, abs(l2)):
        ok = False
    lines.append(f"| {f:g} | {ours['s_per_step']:.1f} | {theirs['s_per_step']:.1f} | {speed:.2f}× | "
                 f"{ours['peak_rss_bytes']/2**30:.1f} GiB | {theirs['peak_rss_bytes']/2**30:.1f} GiB | {rss:.0%} | "
                 f"{l1:.4f} / {l2:.4f} |")
text = "\n".join(lines) + "\n"
print(text)
with open("BENCHMARKS.md", "a") as out:
    if "## Training (make bench)" not in open("BENCHMARKS.md").read():
        out.write("\n## Training (make bench)\n\nFull-size CSM-1B (seeded random weights), batch 1, one sample of 4 turns × "
                  "(20 text + 75 frames + audio end) = 384 positions, LoRA r=32 α=32 on q,k,v,o,gate,up,down, AdamW; "
                  "first step is a warm-up, s/step is the mean of the rest. Command: `make bench`.\n")
    out.write(text)
if not ok:
    sys.exit("step-1 losses disagree at decoder fraction 1")
PY
