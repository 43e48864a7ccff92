"""The transformers + PEFT halves of scripts/gpu_check.sh, on any device (cuda on the GPU machine, cpu for
--dry-run). Each subcommand prints one JSON line, as the csm-bench subcommand it is compared with.

    reference.py train-parity --device cuda       # the 5 LoRA steps of Tests/Fixtures/train (tools/fixtures/train.py)
    reference.py generate --model DIR --frames N --device cuda [--greedy] [--dtype bf16] [--prompt-ids 1,2,3]
    reference.py train-step --model DIR --sample S.json --batch 8 --device cuda [--decoder-fraction F] [--steps 4]
"""
import argparse
import importlib.util
import json
import os
import random
import sys
import time
from types import SimpleNamespace

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "..", "fixtures")
# The prompt csm-bench generation gives the Swift side by default: <bos> + 30 fixed text ids + <eos>.
DEFAULT_PROMPT = [128000] + [(i * 7919) % 30000 + 1000 for i in range(30)] + [128001]


def fixture_module(name):
    spec = importlib.util.spec_from_file_location(f"{name}_fixture", os.path.join(FIXTURES, f"{name}.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def run_on(csm, model, cfg, sample_list, skips, device):
    """tools/fixtures/csm.py's `run` with every input on `device` (the codec stand-in returns codes there too)."""
    ids, labels, mask, segments = csm.batch(cfg, sample_list, skips)
    queue = list(segments)
    model.codec_model.encode = lambda audio: SimpleNamespace(
        audio_codes=torch.tensor(queue.pop(0), device=device).T.unsqueeze(0))
    lengths = torch.tensor([len(s) for s in segments], device=device)
    model.codec_model.get_audio_codes_mask = lambda _: torch.arange(lengths.max(), device=device)[None] < lengths[:, None]
    per_row = [[len(t["codes"]) for t in s] for s in sample_list]
    values = torch.zeros(len(sample_list), 1, max(sum(r) for r in per_row), device=device)
    cut = torch.full((len(sample_list), max(len(r) for r in per_row)), -1)
    for i, r in enumerate(per_row):
        cut[i, :len(r)] = torch.tensor(r).cumsum(0)
    return model(input_ids=ids.to(device), input_values=values, input_values_cutoffs=cut.to(device),
                 attention_mask=mask.to(device), labels=labels.to(device))


def train_parity(device):
    """tools/fixtures/train.py's LoRA trajectory, from its saved initial adapter, on `device`."""
    from peft import PeftModel
    from transformers import CsmForConditionalGeneration, get_scheduler
    csm, train = fixture_module("csm"), fixture_module("train")
    ref = json.load(open(os.path.join(train.ROOT, "expected.json")))
    s, samples, order = ref["settings"], ref["samples"], ref["order"]
    model = CsmForConditionalGeneration.from_pretrained(train.TINY, dtype=torch.float32).to(device)
    model.train()
    model = PeftModel.from_pretrained(model, os.path.join(train.ROOT, "initial_adapter"), is_trainable=True)
    inner, cfg = model.base_model.model, model.base_model.model.config
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW([{"params": params, "weight_decay": s["weight_decay"]}], lr=s["learning_rate"])
    sched = get_scheduler(s["lr_scheduler_type"], opt, num_warmup_steps=s["warmup_steps"], num_training_steps=s["max_steps"])
    losses, norms = [], []
    for step in range(s["max_steps"]):
        micro = [[samples[i] for i in b] for b in order[step]]
        B = sum(train.counts(cfg, m)[0] for m in micro)
        D = sum(train.counts(cfg, m)[1] for m in micro)
        total = 0.0
        for m in micro:
            b, d = train.counts(cfg, m)
            o = run_on(csm, inner, cfg, m, [[]] * len(m), device)
            loss = o.backbone_loss * (b / B) + o.depth_decoder_loss * (d / D)
            loss.backward()
            total += loss.item()
        norms.append(torch.nn.utils.clip_grad_norm_(params, s["max_grad_norm"]).item())
        opt.step()
        sched.step()
        opt.zero_grad()
        losses.append(total)
    return {"impl": "transformers+peft", "device": str(device), "losses": losses, "grad_norms": norms}


def generate(model_dir, frames, device, greedy, dtype, prompt):
    """CsmForConditionalGeneration.generate with its static cache; the time to the first frame is a separate
    generate of one frame (prefill + one frame), after a warm-up."""
    from transformers import CsmForConditionalGeneration
    t0 = time.perf_counter()
    model = CsmForConditionalGeneration.from_pretrained(model_dir, dtype=dtype).to(device).eval()
    load = time.perf_counter() - t0
    ids = torch.tensor([prompt], device=device)
    sampling = dict(do_sample=False, depth_decoder_do_sample=False) if greedy else dict(
        do_sample=True, top_k=50, temperature=0.9, depth_decoder_do_sample=True, depth_decoder_top_k=50,
        depth_decoder_temperature=0.9)

    def run(n):
        torch.manual_seed(0)
        sync(device)
        start = time.perf_counter()
        with torch.inference_mode():
            out = model.generate(input_ids=ids, attention_mask=torch.ones_like(ids), max_new_tokens=n,
                                 cache_implementation="static", **sampling)
        sync(device)
        return out, time.perf_counter() - start

    run(2)  # warm-up: kernels, the static cache's allocation
    _, first = run(1)
    out, seconds = run(frames)
    codes = out[0].tolist()
    return {"impl": "transformers", "device": str(device), "dtype": str(dtype).removeprefix("torch."), "greedy": greedy,
            "frames": len(codes), "seconds": seconds, "frames_per_s": len(codes) / seconds,
            "first_frame_seconds": first, "load_seconds": load, "codes": codes}


def train_step(model_dir, sample_file, batch, fraction, steps, device, base_dtype):
    """LoRA steps as tools/bench/train_step.py, on `device` with a batch of copies of one sample; the base in
    bf16 (PEFT keeps the adapters in f32) or f32. Peak GPU memory of the steps (torch.cuda.max_memory_allocated,
    reset after loading, as csm-bench train does)."""
    from peft import LoraConfig, get_peft_model
    from transformers import CsmForConditionalGeneration
    csm = fixture_module("csm")
    dtype = {"bf16": torch.bfloat16, "f32": torch.float32}[base_dtype]
    model = CsmForConditionalGeneration.from_pretrained(model_dir, dtype=dtype).to(device)
    torch.manual_seed(0)
    model = get_peft_model(model, LoraConfig(r=32, lora_alpha=32, lora_dropout=0.0, target_modules=csm.LORA_TARGETS))
    model.train()
    inner = model.base_model.model
    sample = json.load(open(sample_file))["turns"]
    frames = sum(len(t["codes"]) for t in sample)
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=2e-4, weight_decay=0.001)
    rng = random.Random(0)
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    times, losses = [], []
    for _ in range(steps):
        skips = [sorted(rng.sample(range(frames), int(frames * (1 - fraction)))) for _ in range(batch)]
        sync(device)
        start = time.perf_counter()
        out = run_on(csm, inner, inner.config, [sample] * batch, skips, device)
        out.loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
        sync(device)
        times.append(time.perf_counter() - start)
        losses.append(out.loss.item())
    peak = torch.cuda.max_memory_allocated(device) if device.type == "cuda" else -1
    return {"impl": "transformers+peft", "device": str(device), "batch": batch, "decoder_fraction": fraction,
            "base_dtype": base_dtype, "step_seconds": times, "s_per_step": sum(times[1:]) / max(len(times) - 1, 1),
            "losses": losses, "peak_gpu_memory_bytes": peak}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("command", choices=["train-parity", "generate", "train-step"])
    p.add_argument("--device", default="cpu")
    p.add_argument("--model")
    p.add_argument("--frames", type=int, default=125)
    p.add_argument("--greedy", action="store_true")
    p.add_argument("--dtype", default="f32", choices=["f32", "bf16"])
    p.add_argument("--prompt-ids", help="comma-separated text ids (default: csm-bench generation's prompt)")
    p.add_argument("--sample")
    p.add_argument("--batch", type=int, default=1)
    p.add_argument("--decoder-fraction", type=float, default=1.0)
    p.add_argument("--steps", type=int, default=4)
    p.add_argument("--base-dtype", default="bf16", choices=["bf16", "f32"])
    a = p.parse_args()
    device = torch.device(a.device)
    if a.command == "train-parity":
        result = train_parity(device)
    elif a.command == "generate":
        prompt = [int(x) for x in a.prompt_ids.split(",")] if a.prompt_ids else DEFAULT_PROMPT
        result = generate(a.model, a.frames, device, a.greedy, {"f32": torch.float32, "bf16": torch.bfloat16}[a.dtype], prompt)
    else:
        result = train_step(a.model, a.sample, a.batch, a.decoder_fraction, a.steps, device, a.base_dtype)
    print(json.dumps(result))


if __name__ == "__main__":
    sys.exit(main())
