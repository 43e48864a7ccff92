"""Checks a `csm merge` output with transformers: the merged folder loads with
CsmForConditionalGeneration.from_pretrained (no warnings about missing/unexpected weights) and its backbone and
depth-decoder logits equal base + PEFT adapter. Run by hand after a merge:

  .build/release/csm merge --model_id BASE --adapter ADAPTER --output MERGED
  tools/.venv/bin/python tools/checks/merged_model.py --base BASE --adapter ADAPTER --merged MERGED

Exit status 0 when everything matches; 1 with the reason otherwise. The load must report no missing, unexpected or
mismatched keys (transformers' `output_loading_info`): a missing weight would be silently re-initialised, an unexpected
one silently dropped. f32: logits within 1e-5 (relative) of base + adapter. bf16/f16: base + adapter
runs in half precision too, so the logits of a deep random model drift by a few percent either way; the reference is
then PEFT's own `merge_and_unload()`: every merged weight within one unit in the last place of it (PEFT rounds the
delta before adding, we round once after), and the logits of the two merged models within 1e-2.
"""
import argparse
import sys

import torch
from peft import PeftModel
from transformers import CsmForConditionalGeneration


def logits(model, cfg):
    g = torch.Generator().manual_seed(0)
    text = torch.randint(0, min(cfg.text_vocab_size, 250), (1, 12), generator=g)
    codes = torch.randint(0, cfg.vocab_size - 3, (1, 6, cfg.num_codebooks), generator=g)
    with torch.no_grad():
        out_text = model(input_ids=text).logits
        out = model(input_ids=codes, output_hidden_states=True)
        hidden = out.hidden_states[-1][0]  # (6, hidden): normed last hidden state per frame
        depth_ids = torch.nn.functional.pad(codes[0, :, :-1], (1, 0))
        depth = model.depth_decoder(input_ids=depth_ids, backbone_last_hidden_state=hidden).logits
    return {"text": out_text.float(), "frames": out.logits.float(), "depth": depth.float()}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--base", required=True)
    p.add_argument("--adapter", required=True)
    p.add_argument("--merged", required=True)
    a = p.parse_args(argv)

    merged, info = CsmForConditionalGeneration.from_pretrained(a.merged, output_loading_info=True)
    problems = {k: sorted(map(str, v)) for k, v in info.items()
                if v and k in ("missing_keys", "unexpected_keys", "mismatched_keys", "error_msgs")}
    if problems:
        print(f"FAIL: CsmForConditionalGeneration.from_pretrained({a.merged}) reports {problems}")
        return 1
    print(f"transformers loads {a.merged}: no missing, unexpected or mismatched keys")
    base = CsmForConditionalGeneration.from_pretrained(a.base, dtype=merged.dtype)
    peft = PeftModel.from_pretrained(base, a.adapter).eval()
    ok = True
    if merged.dtype == torch.float32:
        reference, tol = peft.base_model.model, 1e-5
    else:
        reference, tol = peft.merge_and_unload().eval(), 1e-2
        ours = dict(merged.named_parameters())
        ulp = {torch.bfloat16: 2.0 ** -7, torch.float16: 2.0 ** -10}[merged.dtype]
        worst = 0.0
        for name, w in reference.named_parameters():
            if name.startswith("codec_model."):
                continue
            diff = (ours[name].float() - w.float()).abs()
            worst = max(worst, (diff / (w.float().abs() * ulp).clamp_min(1e-30)).max().item())
        print(f"weights: largest difference to PEFT merge_and_unload {worst:.2f} ulp")
        ok &= worst <= 1.0
    want, got = logits(reference, base.config), logits(merged.eval(), merged.config)
    for name in want:
        rel = ((got[name] - want[name]).abs().max() / want[name].abs().max()).item()
        print(f"{name:6s} logits: max relative difference {rel:.2e} (tolerance {tol:.0e}, dtype {merged.dtype})")
        ok &= rel <= tol
    print("OK" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
