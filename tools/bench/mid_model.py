"""Writes a mid-size random CSM (≈40M parameters) for the data-parallel scaling benchmark.

    python tools/bench/mid_model.py OUT [TEXT_VOCAB]

The demo model's tokenizer, processor files and tiny Mimi (so its preprocessed data fits), with a
backbone of 8 layers × 512 and a depth decoder of 4 layers × 256 in place of the 2 × 64 toys.
TEXT_VOCAB (default: the demo's 2048) widens the text embedding, e.g. 128256 so that `csm-bench generation`'s
Llama-3 prompt ids fit.
"""
import json
import os
import shutil
import sys

import torch
from transformers import CsmConfig, CsmForConditionalGeneration

DEMO = os.path.join(os.path.dirname(__file__), "..", "..", "Tests", "Fixtures", "demo-model")


def main(out, text_vocab=None):
    if os.path.exists(os.path.join(out, "model.safetensors")):
        return
    os.makedirs(out, exist_ok=True)
    config = json.load(open(os.path.join(DEMO, "config.json")))
    if text_vocab:
        config.update(text_vocab_size=text_vocab)
    config.update(hidden_size=512, intermediate_size=2048, num_hidden_layers=8, num_attention_heads=8,
                  num_key_value_heads=4, head_dim=64)
    config["depth_decoder_config"].update(hidden_size=256, intermediate_size=1024, num_hidden_layers=4,
                                          num_attention_heads=4, num_key_value_heads=2, head_dim=64,
                                          backbone_hidden_size=512)
    torch.manual_seed(0)
    model = CsmForConditionalGeneration(CsmConfig(**config))
    model.save_pretrained(out)
    for f in os.listdir(DEMO):
        if f not in ("config.json", "model.safetensors"):
            shutil.copy(os.path.join(DEMO, f), out)
    n = sum(p.numel() for name, p in model.named_parameters() if not name.startswith("codec_model"))
    print(f"[mid_model] {out}: {n / 1e6:.1f}M parameters (without the codec)")


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else None)
