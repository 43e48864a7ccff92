"""CSM forward+backward benchmark, transformers + PEFT side (scripts/bench_csm.sh runs both sides).

    python tools/bench/csm_forward_backward.py prepare DIR   # random full-size checkpoint + sample.json in DIR
    python tools/bench/csm_forward_backward.py run DIR [--threads N] [--repeats N] [--rank R]

The checkpoint is CsmForConditionalGeneration(CsmConfig()) (the CSM-1B architecture) with random weights, f32.
"""
import argparse
import json
import os
import resource
import sys
import time

import psutil
import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "fixtures"))
from csm import LORA_TARGETS, run  # noqa: E402


def prepare(folder, text=12, frames=40, turns=1):
    from transformers import CsmConfig, CsmForConditionalGeneration
    os.makedirs(folder, exist_ok=True)
    if not os.path.exists(os.path.join(folder, "model.safetensors.index.json")) and \
            not os.path.exists(os.path.join(folder, "model.safetensors")):
        torch.manual_seed(0)
        config = CsmConfig()
        with torch.no_grad():
            model = CsmForConditionalGeneration(config)
        model.save_pretrained(folder)
    config = json.load(open(os.path.join(folder, "config.json")))
    g = torch.Generator().manual_seed(0)
    sample = {"turns": [{
        "speaker": t % 2,
        "text_ids": [config["bos_token_id"]] + torch.randint(0, 128000, (text,), generator=g).tolist()
        + [128001],
        "codes": torch.randint(0, 2048, (frames, config["num_codebooks"]), generator=g).tolist(),
    } for t in range(turns)]}
    json.dump(sample, open(os.path.join(folder, "sample.json"), "w"))


def bench(folder, threads, repeats, rank):
    from peft import LoraConfig, get_peft_model
    from transformers import CsmForConditionalGeneration
    torch.set_num_threads(threads)
    model = CsmForConditionalGeneration.from_pretrained(folder, dtype=torch.float32)
    torch.manual_seed(0)
    model = get_peft_model(model, LoraConfig(r=rank, lora_alpha=32, lora_dropout=0.0, target_modules=LORA_TARGETS))
    model.train()
    sample = json.load(open(os.path.join(folder, "sample.json")))["turns"]
    inner = model.base_model.model
    times, cpu, loss = [], [], 0.0
    for _ in range(repeats):
        model.zero_grad(set_to_none=True)
        start, start_cpu = time.perf_counter(), time.process_time()
        out = run(inner, inner.config, [sample], [[]])
        out.loss.backward()
        times.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
        loss = out.loss.item()
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    print(json.dumps({
        "impl": "transformers+peft", "threads": torch.get_num_threads(), "dtype": "f32",
        "frames": sum(len(t["codes"]) for t in sample), "lora_params": trainable,
        "first_seconds": times[0], "best_seconds": min(times), "best_cpu_seconds": min(cpu), "loss": loss,
        "peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
        "rss_after_bytes": psutil.Process().memory_info().rss,
    }, sort_keys=True))


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("command", choices=["prepare", "run"])
    p.add_argument("folder")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--repeats", type=int, default=2)
    p.add_argument("--rank", type=int, default=32)
    a = p.parse_args()
    prepare(a.folder) if a.command == "prepare" else bench(a.folder, a.threads, a.repeats, a.rank)
