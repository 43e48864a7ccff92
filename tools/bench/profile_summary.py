"""Where one training step's time goes: a Chrome trace from `csm-bench train --profile FILE` (libtorch's
profiler) → self time per category, as a BENCHMARKS.md table.

    python tools/bench/profile_summary.py RESULT.json [RESULT.json ...]
    python tools/bench/profile_summary.py --ops TRACE.json   # any trace (e.g. `csm-bench generation --profile`):
                                                             # self time and calls per op, largest first

RESULT.json: the `csm-bench train` line whose "profile" names the trace. Self time = an op's time minus that of
the ops it called, so every microsecond is counted once. Categories, by op name: GEMMs (mm, addmm, bmm, …),
attention (scaled_dot_product_* and its backward), cross-entropy (log-softmax, nll_loss), casts and copies
(to/_to_copy/copy_: what bf16 emulation and dtype bridging cost), optimizer (everything inside the Trainer's
"optimizer" range: clipping, AdamW, zeroing), elementwise (every other op: SiLU, mul, add, RMSNorm, RoPE, cat,
sums), and outside ops (the step's wall time minus all op time: Swift, the allocator's page faults, autograd's
own bookkeeping). The step's GEMM work is also priced at the GEMM rates measured in the same process.
"""
import json, sys
from collections import defaultdict

GEMM = {"aten::mm", "aten::addmm", "aten::bmm", "aten::baddbmm", "aten::addbmm", "aten::_weight_int8pack_mm"}
CE = ("log_softmax", "nll_loss", "cross_entropy")
CASTS = {"aten::to", "aten::_to_copy", "aten::copy_", "aten::contiguous", "aten::clone"}


def category(name, in_optimizer):
    if in_optimizer:
        return "optimizer (clip, AdamW, zero)"
    if name in GEMM:
        return "GEMMs"
    if "scaled_dot_product" in name or "attention" in name:
        return "attention (SDPA fwd+bwd)"
    if any(k in name for k in CE):
        return "cross-entropy"
    if name in CASTS:
        return "casts and copies"
    if name.startswith("aten::"):
        return "elementwise and other ops"
    return "autograd and other (self)"


def self_times(events):
    """Per-event self time (µs) from nesting on each thread; events inside the 'optimizer' range marked."""
    out = []
    by_thread = defaultdict(list)
    for e in events:
        if e.get("ph") == "X":
            by_thread[e.get("tid")].append(e)
    for evs in by_thread.values():
        evs.sort(key=lambda e: (float(e["ts"]), -float(e["dur"])))
        stack = []  # [event, child time, in optimizer]
        def close(upto):
            while stack and float(stack[-1][0]["ts"]) + float(stack[-1][0]["dur"]) <= upto + 1e-3:
                ev, child, opt = stack.pop()
                out.append((ev["name"], float(ev["dur"]) - child, opt, not stack))
                if stack:
                    stack[-1][1] += float(ev["dur"])
        for e in evs:
            close(float(e["ts"]))
            opt = e["name"] == "optimizer" or (stack and stack[-1][2])
            stack.append([e, 0.0, opt])
        close(float("inf"))
    return out


def ops_table(trace):
    events = json.load(open(trace))
    if isinstance(events, dict):
        events = events.get("traceEvents", [])
    times, calls = defaultdict(float), defaultdict(int)
    for name, self_us, _, _ in self_times(events):
        times[name] += self_us
        calls[name] += 1
    total = sum(times.values())
    print(f"\n{trace}: {total / 1e6:.2f} s of op self time\n")
    print("| op | calls | seconds | share | µs per call |")
    print("|---|---:|---:|---:|---:|")
    for k, v in sorted(times.items(), key=lambda kv: -kv[1])[:25]:
        print(f"| {k} | {calls[k]} | {v / 1e6:.3f} | {v / total:.0%} | {v / calls[k]:.0f} |")


def main():
    if sys.argv[1:2] == ["--ops"]:
        for trace in sys.argv[2:]:
            ops_table(trace)
        return
    for path in sys.argv[1:]:
        result = json.loads(open(path).read().strip().splitlines()[-1])
        prof = result["profile"]
        events = json.load(open(prof["trace"]))
        if isinstance(events, dict):
            events = events.get("traceEvents", [])
        times = defaultdict(float)
        top = 0.0
        for name, self_us, opt, is_top in self_times(events):
            if name in ("forward", "backward", "optimizer"):
                if is_top:
                    top += 0  # ranges of ours: their self time is counted as "outside ops" below
                continue
            times[category(name, opt)] += self_us
        wall = prof["wall_seconds"]
        ops = sum(times.values()) / 1e6
        times["outside ops (Swift, allocator, page faults)"] = max(wall - ops, 0) * 1e6
        gemm = result["gemm_gflops"]
        print(f"\n{path}: {result['compute']} compute, base {result['base_dtype']}, decoder fraction "
              f"{result['decoder_fraction']}, one profiled step {wall:.1f} s wall / {prof['cpu_seconds']:.1f} s CPU, "
              f"{prof['minor_faults']} minor + {prof['major_faults']} major page faults; "
              f"GEMM rate f32 {gemm['f32']:.0f}, bf16 {gemm['bf16']:.0f} GFLOP/s\n")
        print("| category | seconds | share |")
        print("|---|---:|---:|")
        for k, v in sorted(times.items(), key=lambda kv: -kv[1]):
            print(f"| {k} | {v / 1e6:.2f} | {v / 1e6 / wall:.0%} |")


if __name__ == "__main__":
    main()
