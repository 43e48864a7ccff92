"""The work of `csm-bench torch` (Sources/csm-bench/TorchBench.swift) through Python torch, printed the same way.

Usage: tools/.venv/bin/python tools/bench/torch_foundation.py [--threads N] [--only NAME]...
"""
import argparse
import json
import time

import torch


def best(repeats, body):
    """Best of `repeats` timings of `body`, after one warm-up run."""
    body()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        body()
        times.append(time.perf_counter() - start)
    return min(times)


def adds(n):
    calls = 10_000
    a, b = torch.ones(n), torch.ones(n)

    def loop():
        for _ in range(calls):
            a + b

    return best(5, loop) / calls * 1e6


def matmul():
    m, k, n = 2048, 2048, 8192
    torch.manual_seed(0)
    a, b = torch.randn(m, k), torch.randn(k, n)
    return 2 * m * k * n / best(3, lambda: a @ b) / 1e9


def adamw(fused):
    torch.manual_seed(0)
    params = [torch.randn(100_000, requires_grad=True) for _ in range(100)]
    for p in params:
        p.grad = torch.randn(100_000)
    opt = torch.optim.AdamW(params, lr=1e-3, weight_decay=0.01, foreach=False, fused=fused)
    return best(5, opt.step) * 1e3


MEASURES = [
    ("add_1", "us/call", lambda: adds(1)),
    ("add_16", "us/call", lambda: adds(16)),
    ("matmul_f32_2048x2048x8192", "GFLOP/s", matmul),
    ("adamw_step_10M", "ms", lambda: adamw(False)),
    ("adamw_step_10M_fused", "ms", lambda: adamw(True)),
]

if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int)
    parser.add_argument("--only", action="append", default=[])
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    for name, unit, run in MEASURES:
        if not args.only or name in args.only:
            value = run()
            print(json.dumps({"name": name, "value": round(value, 3), "unit": unit, "threads": torch.get_num_threads()}))
