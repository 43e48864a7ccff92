"""transformers' `CsmForConditionalGeneration.generate` timed on the same prompt and settings as `csm-bench generation`
(top-k 50, temperature 0.9 for the backbone and the depth decoder, a fixed number of frames). Run by
scripts/bench_generation.sh; `--write DIR` first writes a random full-size CSM-1B folder there (git-ignored cache).
"""
import argparse
import os
import time

import torch
from transformers import CsmConfig, CsmForConditionalGeneration


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--model", required=True)
    p.add_argument("--frames", type=int, default=125)
    p.add_argument("--dtype", default="f32", choices=["f32", "bf16"])
    p.add_argument("--threads", type=int)
    p.add_argument("--write", action="store_true", help="write a random full-size CSM folder at --model if missing")
    a = p.parse_args()
    if a.threads:
        torch.set_num_threads(a.threads)
    if a.write and not os.path.exists(os.path.join(a.model, "model.safetensors")):
        torch.manual_seed(0)
        CsmForConditionalGeneration(CsmConfig()).save_pretrained(a.model)  # the defaults are CSM-1B's sizes
    dtype = {"f32": torch.float32, "bf16": torch.bfloat16}[a.dtype]
    t0 = time.perf_counter()
    model = CsmForConditionalGeneration.from_pretrained(a.model, dtype=dtype).eval()
    load = time.perf_counter() - t0
    ids = torch.tensor([[128000] + [(i * 7919) % 30000 + 1000 for i in range(30)] + [128001]])
    torch.manual_seed(0)
    start = time.perf_counter()
    with torch.inference_mode():
        out = model.generate(input_ids=ids, attention_mask=torch.ones_like(ids), max_new_tokens=a.frames,
                             do_sample=True, top_k=50, temperature=0.9,
                             depth_decoder_do_sample=True, depth_decoder_top_k=50, depth_decoder_temperature=0.9)
    seconds = time.perf_counter() - start
    n = out.shape[1]
    print(f"transformers: dtype {a.dtype} threads {torch.get_num_threads()}: {n} frames in {seconds:.2f} s "
          f"(load {load:.1f} s): {n / seconds:.2f} frames/s, real-time factor {seconds / (n / 12.5):.2f}"
          + ("" if n == a.frames else " (stopped early at an all-zero frame)"))


if __name__ == "__main__":
    main()
