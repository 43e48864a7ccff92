"""Training-step benchmark, HF + PEFT side (scripts/bench.sh runs both sides, alternating).

    python tools/bench/train_step.py prepare DIR      # full-size random CSM-1B (cached) + the samples
    python tools/bench/train_step.py run DIR [--steps 4] [--decoder-fraction 1.0] [--threads 2] [--base-dtype bf16]

One sample of 4 turns × (20 text tokens + 75 frames + audio end) = 384 positions, batch 1, LoRA r=32
alpha=32 on q,k,v,o,gate,up,down of backbone and depth decoder, AdamW (lr 2e-4, wd 0.001). The first step
is a warm-up; the rest are timed. Prints one JSON line. `--base-dtype bf16`: the model in bf16
(`model.to(torch.bfloat16)`; PEFT keeps the LoRA weights f32), as a user who wants speed loads it.
`prepare` also writes train_sample_seed.json: 4 turns × (20 text + 125 frames, 10 s) for the seed's real shape.
"""
import argparse, json, os, random, resource, sys, time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "fixtures"))
from csm import LORA_TARGETS, run  # noqa: E402


def prepare(folder):
    from transformers import CsmConfig, CsmForConditionalGeneration
    os.makedirs(folder, exist_ok=True)
    if not any(os.path.exists(os.path.join(folder, f)) for f in ("model.safetensors", "model.safetensors.index.json")):
        torch.manual_seed(0)
        with torch.no_grad():
            model = CsmForConditionalGeneration(CsmConfig())
        model.save_pretrained(folder)
    config = json.load(open(os.path.join(folder, "config.json")))
    g = torch.Generator().manual_seed(0)
    for name, frames in (("train_sample.json", 75), ("train_sample_seed.json", 125)):
        turns = [{"speaker": t % 2,
                  "text_ids": [config["bos_token_id"]] + torch.randint(0, 128000, (18,), generator=g).tolist() + [128001],
                  "codes": torch.randint(0, 2048, (frames, config["num_codebooks"]), generator=g).tolist()}
                 for t in range(4)]
        json.dump({"turns": turns}, open(os.path.join(folder, name), "w"))


def bench(folder, steps, fraction, threads, base_dtype):
    from peft import LoraConfig, get_peft_model
    from transformers import CsmForConditionalGeneration
    torch.set_num_threads(threads)
    model = CsmForConditionalGeneration.from_pretrained(folder, dtype=torch.float32)
    if base_dtype == "bf16":
        model.to(torch.bfloat16)
    torch.manual_seed(0)
    model = get_peft_model(model, LoraConfig(r=32, lora_alpha=32, lora_dropout=0.0, target_modules=LORA_TARGETS))
    assert all(p.dtype == torch.float32 for p in model.parameters() if p.requires_grad), "LoRA weights must be f32"
    model.train()
    inner = model.base_model.model
    sample = json.load(open(os.path.join(folder, "train_sample.json")))["turns"]
    frames = sum(len(t["codes"]) for t in sample)
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=2e-4, weight_decay=0.001)
    rng = random.Random(0)
    times, losses = [], []
    for _ in range(steps):
        # the processor's depth_decoder_labels_ratio: int(n·(1-ratio)) frames become -101
        skip = sorted(rng.sample(range(frames), int(frames * (1 - fraction))))
        start = time.perf_counter()
        out = run(inner, inner.config, [sample], [skip])
        out.loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
        times.append(time.perf_counter() - start)
        losses.append(out.loss.item())
    print(json.dumps({"impl": "transformers+peft", "decoder_fraction": fraction, "threads": threads,
                      "base_dtype": base_dtype, "thp": os.environ.get("THP_MEM_ALLOC_ENABLE", "0"),
                      "frames": frames, "batch_size": 1, "accumulation": 1,
                      "positions": sum(len(t["text_ids"]) + len(t["codes"]) + 1 for t in sample),
                      "step_seconds": times, "s_per_step": sum(times[1:]) / max(len(times) - 1, 1),
                      "losses": losses, "peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024}))


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("command", choices=["prepare", "run"])
    p.add_argument("folder")
    p.add_argument("--steps", type=int, default=4)
    p.add_argument("--decoder-fraction", type=float, default=1.0)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--base-dtype", choices=["f32", "bf16"], default="f32")
    a = p.parse_args()
    prepare(a.folder) if a.command == "prepare" else bench(a.folder, a.steps, a.decoder_fraction, a.threads, a.base_dtype)
