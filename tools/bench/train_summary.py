"""Turns `csm-bench train` / train_step.py result lines into the BENCHMARKS.md table (scripts/bench.sh).

    python tools/bench/train_summary.py THREADS OURS.json HF.json [OURS.json HF.json ...]

Each file holds one JSON line; pairs are (ours, HF) at the same decoder fraction. Appends the rows to
BENCHMARKS.md and fails when the step-1 losses at decoder fraction 1 differ by more than 1e-3.
"""
import datetime, json, platform, subprocess, sys

threads, *files = sys.argv[1:]
rows = [json.loads(open(f).read().strip().splitlines()[-1]) for f in files]
cpu = subprocess.run(["sh", "-c", "lscpu | sed -n 's/^Model name: *//p'"], capture_output=True, text=True).stdout.strip()
mem = int(open("/proc/meminfo").readline().split()[1]) // 1024 // 1024
load = open("/proc/loadavg").read().split()[:3]
lines = [f"\n### {datetime.date.today()} — {cpu or platform.machine()}, {subprocess.getoutput('nproc')} cores, {mem} GiB, "
         f"{threads} threads, load {' '.join(load)} at the end\n",
         "| decoder fraction | ours s/step | HF+PEFT s/step | speed-up | ours peak RSS | HF peak RSS | RSS ratio | step-1 loss ours / HF | ours: base, recompute_mlp |",
         "|---|---:|---:|---:|---:|---:|---:|---|---|"]
ok = True


def settings(ours):
    """How our side ran (older result lines predate these fields: f32, no recomputation)."""
    base = ours.get("base_dtype", "f32")
    if base != "f32":
        base += f" ({ours.get('product', '?')} products)"
    return f"{base}, {ours.get('recompute_mlp', 'none')}"


for ours, theirs in zip(rows[::2], rows[1::2]):
    f = ours["decoder_fraction"]
    speed = theirs["s_per_step"] / ours["s_per_step"]
    rss = ours["peak_rss_bytes"] / theirs["peak_rss_bytes"]
    l1, l2 = ours["losses"][0], theirs["losses"][0]
    if f == 1.0 and abs(l1 - l2) > 1e-3 * max(1, abs(l2)):
        ok = False
    lines.append(f"| {f:g} | {ours['s_per_step']:.1f} | {theirs['s_per_step']:.1f} | {speed:.2f}× | "
                 f"{ours['peak_rss_bytes']/2**30:.1f} GiB | {theirs['peak_rss_bytes']/2**30:.1f} GiB | {rss:.0%} | "
                 f"{l1:.4f} / {l2:.4f} | {settings(ours)} |")
text = "\n".join(lines) + "\n"
print(text)
with open("BENCHMARKS.md", "a") as out:
    if "## Training (make bench)" not in open("BENCHMARKS.md").read():
        out.write("\n## Training (make bench)\n\nFull-size CSM-1B (seeded random weights, f32), batch 1, one sample of 4 "
                  "turns × (20 text + 75 frames + audio end) = 384 positions, LoRA r=32 α=32 on q,k,v,o,gate,up,down "
                  "of backbone and depth decoder, AdamW; the first step is a warm-up, s/step is the mean of the rest; "
                  "each side in its own process, alternating. Command: `make bench` (or `scripts/bench.sh`).\n")
    out.write(text)
if not ok:
    sys.exit("step-1 losses disagree at decoder fraction 1")
