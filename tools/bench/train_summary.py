"""Turns `csm-bench train` / train_step.py result lines into the BENCHMARKS.md table (scripts/bench.sh).

    python tools/bench/train_summary.py THREADS MODEL_DIR RESULT.json [RESULT.json ...]

Each file holds one JSON line (ours or HF+PEFT, any decoder fraction, any shape). Per decoder fraction, the peer
is HF+PEFT at its best: the faster of its bf16-base runs (with and without THP_MEM_ALLOC_ENABLE=1); its f32 run is
a second row. Every figure is also given as a multiple of the GEMM floor: the step's GEMM work, 4 × weights ×
positions (forward, and input gradients through the frozen weights) for the backbone's and the depth decoder's
decoder layers and heads, at the faster of the f32 and bf16 GEMM rates ours measured in the same run. Appends
the table to BENCHMARKS.md; fails when ours and HF's f32 step-1 losses at decoder fraction 1 differ by more than
1e-3 relative.
"""
import datetime, json, os, platform, subprocess, sys

threads, model_dir, *files = sys.argv[1:]
rows = [json.loads(open(f).read().strip().splitlines()[-1]) for f in files]
config = json.load(open(os.path.join(model_dir, "config.json")))


def stack_weights(c):
    """Weights of one decoder stack's layers (q, k, v, o, gate, up, down)."""
    h, i, hd = c["hidden_size"], c["intermediate_size"], c.get("head_dim") or c["hidden_size"] // c["num_attention_heads"]
    attn = h * hd * (2 * c["num_attention_heads"] + 2 * c["num_key_value_heads"])
    return c["num_hidden_layers"] * (attn + 3 * h * i)


depth = config["depth_decoder_config"]
backbone_weights = stack_weights(config) + config["hidden_size"] * config["vocab_size"]  # + lm_head
depth_weights = stack_weights(depth) + depth["hidden_size"] * depth["vocab_size"] + depth["backbone_hidden_size"] * depth["hidden_size"]
rates = [r["gemm_gflops"] for r in rows if "gemm_gflops" in r]
# GFLOP/s of a forward + input-gradient pair in the faster dtype on this machine (older results: one product)
rate = max(max(g.get("f32", 0), g.get("bf16", 0)) for g in rates) if rates else None


def floor_seconds(r):
    samples = r.get("batch_size", 1) * r.get("accumulation", 1)
    frames, turns = r["frames"], 4
    trained = frames - int(frames * (1 - r["decoder_fraction"])) + turns  # + each turn's audio-end position
    work = 4 * samples * (backbone_weights * r["positions"] + depth_weights * config["num_codebooks"] * trained)
    return work / (rate * 1e9)


def label(r):
    if r["impl"] == "csm-swift":
        shape = "" if r.get("batch_size", 1) * r.get("accumulation", 1) == 1 else \
            f", batch {r['batch_size']} × accumulation {r['accumulation']}"
        return f"ours ({r['base_dtype']} base, {r.get('compute', 'f32')} compute, recompute {r.get('recompute_mlp', 'none')}{shape})"
    return f"HF+PEFT ({r.get('base_dtype', 'f32')} base, THP {'on' if r.get('thp', '0') == '1' else 'off'})"


cpu = subprocess.run(["sh", "-c", "lscpu | sed -n 's/^Model name: *//p'"], capture_output=True, text=True).stdout.strip()
mem = int(open("/proc/meminfo").readline().split()[1]) // 1024 // 1024
load = open("/proc/loadavg").read().split()[:3]
def gemm_text_of(g):
    if "f32_forward" not in g:
        return f"f32 {g['f32']:.0f} / bf16 {g['bf16']:.2f}"
    return (f"f32 {g['f32']:.0f} (x·Wᵀ {g['f32_forward']:.0f}, g·W {g['f32_input_grad']:.0f}) / bf16 {g['bf16']:.2f} "
            f"(x·Wᵀ {g['bf16_forward']:.1f}, g·W {g['bf16_input_grad']:.2f})")


gemm_text = ", ".join(gemm_text_of(g) for g in rates)
lines = [f"\n### {datetime.date.today()} — {cpu or platform.machine()}, {subprocess.getoutput('nproc')} cores, {mem} GiB, "
         f"{threads} threads, load {' '.join(load)} at the end; GEMM GFLOP/s measured by ours: {gemm_text}\n",
         "| decoder fraction | run | positions × samples | s/step | tokens/s | × GEMM floor | speed vs the peer | peak RSS | RSS vs the peer | step-1 loss |",
         "|---|---|---|---:|---:|---:|---:|---:|---:|---:|"]
ok = True
for f in sorted({r["decoder_fraction"] for r in rows}, reverse=True):
    group = [r for r in rows if r["decoder_fraction"] == f]
    # HF+PEFT at its best: its bf16-base runs; where there are none (an AVX2-only CPU, whose bf16 GEMMs are
    # emulated and take hours per step), its f32 runs.
    hf = [r for r in group if r["impl"] != "csm-swift"]
    peers = [r for r in hf if r.get("base_dtype") == "bf16"] or hf
    best = min(peers, key=lambda r: r["s_per_step"]) if peers else None
    ours = [r for r in group if r["impl"] == "csm-swift" and r.get("batch_size", 1) * r.get("accumulation", 1) == 1]
    hf32 = [r for r in group if r["impl"] != "csm-swift" and r.get("base_dtype", "f32") == "f32"]
    if f == 1.0 and ours and hf32 and abs(ours[0]["losses"][0] - hf32[0]["losses"][0]) > 1e-3 * max(1, abs(hf32[0]["losses"][0])):
        ok = False
    for r in sorted(group, key=lambda r: (r["impl"] != "csm-swift", r.get("batch_size", 1) * r.get("accumulation", 1) == 1)):
        samples = r.get("batch_size", 1) * r.get("accumulation", 1)
        tokens = r.get("tokens_per_s") or r["positions"] * samples / r["s_per_step"]
        same_shape = best is not None and samples == 1
        speed = f"{best['s_per_step'] / r['s_per_step']:.2f}×" if same_shape else "—"
        rss = f"{r['peak_rss_bytes'] / best['peak_rss_bytes']:.0%}" if same_shape else "—"
        floor = f"{r['s_per_step'] / floor_seconds(r):.1f}×" if rate else "—"
        lines.append(f"| {f:g} | {label(r)}{' **(peer)**' if r is best else ''} | {r['positions']} × {samples} | "
                     f"{r['s_per_step']:.1f} | {tokens:.0f} | {floor} | {speed} | {r['peak_rss_bytes'] / 2**30:.1f} GiB | {rss} | "
                     f"{r['losses'][0]:.4f} |")
text = "\n".join(lines) + "\n"
print(text)
with open("BENCHMARKS.md", "a") as out:
    out.write(text)
if not ok:
    sys.exit("step-1 losses of ours and HF+PEFT (f32) disagree at decoder fraction 1")
