"""Checks that PEFT loads an adapter folder written by csm-swift (`csm train`, `PEFTAdapter.save`) unchanged and
reproduces the logits csm-swift computed with the same base + adapter.

    tools/.venv/bin/python tools/checks/peft_adapter.py --base BASE --adapter ADAPTER [--logits LOGITS]

BASE is the base model folder, ADAPTER the adapter folder (adapter_config.json + adapter_model.safetensors), LOGITS a
safetensors file of csm-swift's outputs (default ADAPTER/logits.safetensors). What it checks:

- `PeftModel.from_pretrained(base, ADAPTER)` loads without warning of missing/unexpected keys, and the LoRA weights
  it holds are exactly the file's: the same keys (`base_model.model.<module>.lora_A.weight` / `lora_B.weight`, no module missing or extra
  after PEFT's own `target_modules` matching) and the same values; no `lora_B` is all zero (a trained adapter).
- For each input in LOGITS, the PEFT model's logits equal csm-swift's within `--tolerance` (max |diff| / max |ref|,
  default 1e-5, f32), and the adapter changes them by more than `--min-effect` (default 1e-3) relative to the base
  with the adapter disabled, so the comparison cannot pass with an adapter that does nothing.

Inputs in LOGITS (all optional, at least one present):
- `text.input_ids` (1, T): text-only ids through `CsmForConditionalGeneration(input_ids=...)`; `text.logits`.
- `frames.input_ids` (1, F, K): audio frames (codes) through the same forward; `frames.logits` (1, F, V), and
  `frames.depth_logits` (F, K-1, V): the depth decoder fed each frame's backbone last hidden state and codes 0..K-2.
- a training sample: turns as JSON in the file's metadata `sample` ([{speaker, text_ids, codes}], text ids with
  bos/eos), laid out as the processor does and merged by transformers' own `_merge_input_ids_with_input_values`
  (the codec's `encode` returns the given codes); `sample.logits` (T, V).
- legacy (LoRATests.swift `AdapterExportTests`, base Tests/Fixtures/csm/tiny): `logits` (T, V) of fixture sample 0.

Exit status 0 when everything holds; otherwise 1 with the reason.
"""
import argparse
import importlib.util
import json
import os
import sys
import warnings

import torch
from peft import PeftModel
from safetensors import safe_open
from safetensors.torch import load_file
from transformers import CsmForConditionalGeneration

HERE = os.path.dirname(os.path.abspath(__file__))


def _fixture_module():
    """tools/fixtures/csm.py (lay-out of a sample, the codec stand-in), loaded by path: tools/fixtures stays off
    sys.path, where its scripts would shadow modules (and run, rewriting fixtures) on import."""
    spec = importlib.util.spec_from_file_location("csm_fixture", os.path.join(HERE, "..", "fixtures", "csm.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


csm_fixture = _fixture_module()


def lora_keys_in(peft_model):
    """PEFT's LoRA parameters under the file's key names (the adapter name removed)."""
    out = {}
    for name, p in peft_model.named_parameters():
        if ".lora_A." in name or ".lora_B." in name:
            out[name.replace(".default.", ".")] = p.detach()
    return out


def forwards(model, cfg, tensors, sample):
    """Logits for every input present in the file (model: plain transformers model, adapted or not)."""
    out = {}
    with torch.no_grad():
        if "text.input_ids" in tensors:
            out["text.logits"] = model(input_ids=tensors["text.input_ids"]).logits
        if "frames.input_ids" in tensors:
            codes = tensors["frames.input_ids"]
            out["frames.logits"] = model(input_ids=codes).logits
            hidden = model.backbone_model(input_ids=codes).last_hidden_state[0]  # (F, hidden), normed
            depth_ids = torch.nn.functional.pad(codes[0, :, :-1], (1, 0))  # position 0: the hidden state
            out["frames.depth_logits"] = model.depth_decoder(input_ids=depth_ids,
                                                             backbone_last_hidden_state=hidden).logits
        if sample is not None:
            out[sample[0]] = csm_fixture.run(model, cfg, [sample[1]], [[]]).logits[0]
    return {k: v.float() for k, v in out.items()}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--base", required=True, help="base model folder")
    p.add_argument("--adapter", required=True, help="PEFT adapter folder written by csm")
    p.add_argument("--logits", help="csm's logits (default ADAPTER/logits.safetensors)")
    p.add_argument("--tolerance", type=float, default=1e-5)
    p.add_argument("--min-effect", type=float, default=1e-3)
    a = p.parse_args(argv)
    logits_file = a.logits or os.path.join(a.adapter, "logits.safetensors")

    theirs = load_file(logits_file)
    with safe_open(logits_file, "pt") as f:
        meta = f.metadata() or {}
    sample = None
    if "sample" in meta:
        sample = ("sample.logits", json.loads(meta["sample"]))
    elif "logits" in theirs:  # AdapterExportTests: fixture sample 0 on the tiny model
        expected = json.load(open(os.path.join(csm_fixture.ROOT, "expected.json")))
        sample = ("logits", expected["samples"][0])
    if not (sample or "text.input_ids" in theirs or "frames.input_ids" in theirs):
        print(f"FAIL: {logits_file} holds no inputs to check (keys {sorted(theirs)})")
        return 1

    base = CsmForConditionalGeneration.from_pretrained(a.base, dtype=torch.float32).eval()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        peft_model = PeftModel.from_pretrained(base, a.adapter).eval()
    ok = True
    for w in caught:
        text = str(w.message)
        if any(word in text.lower() for word in ("missing", "unexpected", "not found", "mismatch")):
            print(f"FAIL: PeftModel.from_pretrained warned: {text}")
            ok = False

    # PEFT's target_modules matching must wrap exactly the modules the file holds, with the file's values.
    file_weights = load_file(os.path.join(a.adapter, "adapter_model.safetensors"))
    loaded = lora_keys_in(peft_model)
    missing, extra = sorted(set(file_weights) - set(loaded)), sorted(set(loaded) - set(file_weights))
    if missing or extra:
        print(f"FAIL: adapter keys differ: in the file but not in the PEFT model {missing[:5]} "
              f"({len(missing)}); wrapped by PEFT but not in the file {extra[:5]} ({len(extra)})")
        ok = False
    differing = [k for k in sorted(set(file_weights) & set(loaded))
                 if not torch.equal(file_weights[k].to(loaded[k].dtype), loaded[k])]
    if differing:
        print(f"FAIL: PEFT holds other values than the file for {differing[:5]} ({len(differing)})")
        ok = False
    zero_b = [k for k, v in file_weights.items() if ".lora_B." in k and not v.abs().max() > 0]
    if zero_b:
        print(f"FAIL: {len(zero_b)} lora_B weights are all zero (untrained?), e.g. {zero_b[:3]}")
        ok = False
    n_modules = len({k.rsplit(".lora_", 1)[0] for k in file_weights})
    print(f"PEFT wrapped {n_modules} modules; their {len(loaded)} LoRA tensors equal the file's "
          f"({os.path.basename(a.adapter)}/adapter_model.safetensors)")

    model, cfg = peft_model.base_model.model, base.config
    want = forwards(model, cfg, theirs, sample)
    with peft_model.disable_adapter():
        plain = forwards(model, cfg, theirs, sample)
    for name, ref in want.items():
        if name not in theirs:
            print(f"FAIL: {logits_file} has the inputs but not the outputs '{name}'")
            ok = False
            continue
        ours = theirs[name].float()
        if ours.shape != ref.shape:
            print(f"FAIL: {name}: csm wrote shape {tuple(ours.shape)}, PEFT gives {tuple(ref.shape)}")
            ok = False
            continue
        scale = ref.abs().max()
        err = ((ours - ref).abs().max() / scale).item()
        effect = ((ref - plain[name]).abs().max() / scale).item()
        good = err <= a.tolerance and effect > a.min_effect
        print(f"{name:20s} {tuple(ref.shape)}: max relative difference to PEFT {err:.2e} (tolerance {a.tolerance:.0e});"
              f" adapter changes the logits by {effect:.2e} (must exceed {a.min_effect:.0e}) {'ok' if good else 'FAIL'}")
        ok &= good
    print("OK" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
