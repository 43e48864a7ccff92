"""Preprocess benchmark (BENCHMARKS.md "Preprocess"): `csm preprocess` vs tools/preprocess_reference.py on the same
espeak-ng dataset (scripts/make_demo_data.sh) with the full-size Mimi architecture (random weights, seed 0) and the
tokenizer fixture. Reports wall time and peak RSS (each run is a child process: os.wait4's ru_maxrss), and checks
that both produce the same samples (count, and every sample's codes).

Run: tools/.venv/bin/python tools/bench/preprocess.py --csm .build/release/csm
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np
import torch
from safetensors.numpy import load_file as load_np
from safetensors.torch import load_file, save_file

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CACHE = os.path.join(ROOT, "bench-cache", "preprocess")


def model_folder():
    """A CSM-style folder holding only the codec: config.json (codec_config = MimiConfig() defaults, 32 codebooks),
    model.safetensors with codec_model.* in the checkpoint layout, and the tokenizer fixture."""
    folder = os.path.join(CACHE, "model")
    if os.path.exists(os.path.join(folder, "model.safetensors")):
        return folder
    from transformers import MimiConfig, MimiModel

    torch.manual_seed(0)
    mimi = MimiModel(MimiConfig())
    os.makedirs(folder, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        mimi.save_pretrained(tmp)  # writes the checkpoint key layout
        weights = {"codec_model." + k: v for k, v in load_file(os.path.join(tmp, "model.safetensors")).items()}
    save_file(weights, os.path.join(folder, "model.safetensors"))
    with open(os.path.join(folder, "config.json"), "w") as f:
        json.dump({"codec_config": MimiConfig().to_dict(), "num_codebooks": 32}, f, indent=1)
    for name in ["tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"]:
        shutil.copy(os.path.join(ROOT, "Tests", "Fixtures", "tokenizer", name), folder)
    return folder


def dataset():
    out = os.path.join(CACHE, "demo")
    if not os.path.isdir(os.path.join(out, "dataset")):
        subprocess.run(["bash", os.path.join(ROOT, "scripts", "make_demo_data.sh"), out], check=True,
                       stdout=subprocess.DEVNULL)
    return os.path.join(out, "dataset")


def measure(cmd):
    start = time.time()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.time() - start
    err = proc.stderr.read().decode()
    if status != 0:
        sys.exit(f"{' '.join(cmd)} failed:\n{err[-3000:]}")
    return elapsed, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024  # MiB


def swift_samples(out):
    manifest = json.load(open(os.path.join(out, "manifest.json")))
    by_conv = {}
    for ref in manifest["samples"]:
        conv = manifest["conversations"][ref["conversation"]]
        shard = by_conv.setdefault(conv["id"], load_np(os.path.join(out, conv["shard"])))
        o = shard["frame_offsets"]
        yield conv["id"], np.concatenate([shard["codes"][o[i]:o[i + 1]] for i in ref["segments"]])


def reference_samples(out):
    for name in sorted(os.listdir(out)):
        tensors = load_np(os.path.join(out, name))
        for i in range(len([k for k in tensors if k.endswith(".codes")])):
            yield name[:-len(".safetensors")].replace("__", "/"), tensors[f"{i}.codes"]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--csm", default=os.path.join(ROOT, ".build", "release", "csm"))
    a = p.parse_args()
    model, data = model_folder(), dataset()
    work = tempfile.mkdtemp()
    ours_out, ref_out, once_out = (os.path.join(work, n) for n in ["swift", "reference", "reference_once"])
    runs = {
        "csm preprocess (Swift)": [a.csm, "preprocess", "--input_path", data, "--output_path", ours_out,
                                   "--model_id", model],
        "reference (encode per sample)": [sys.executable, os.path.join(ROOT, "tools", "preprocess_reference.py"),
                                          "--input_path", data, "--output_path", ref_out, "--model_folder", model],
        "reference (encode each segment once)": [sys.executable, os.path.join(ROOT, "tools", "preprocess_reference.py"),
                                                 "--input_path", data, "--output_path", once_out,
                                                 "--model_folder", model, "--encode_once"],
    }
    results = {name: measure(cmd) for name, cmd in runs.items()}
    ours = list(swift_samples(ours_out))
    ref = list(reference_samples(ref_out))
    same = sum(1 for (c1, x), (c2, y) in zip(ours, ref) if c1 == c2 and x.shape == y.shape and (x == y).all())
    audio = json.load(open(os.path.join(ours_out, "report.json")))["audio_seconds"]
    print(f"dataset: {data} ({len(ours)} samples, {audio:.1f} s of audio); model: full-size Mimi, random weights")
    print(f"samples with identical codes: {same}/{len(ref)} (reference has {len(ref)})")
    print("| pipeline | wall s | CPU s | peak RSS MiB | audio s per wall s | wall vs csm |")
    print("|---|---|---|---|---|---|")
    base = results["csm preprocess (Swift)"][0]
    for name, (secs, cpu, rss) in results.items():
        print(f"| {name} | {secs:.1f} | {cpu:.1f} | {rss:.0f} | {audio / secs:.2f} | {secs / base:.2f}× |")
    shutil.rmtree(work)


if __name__ == "__main__":
    main()
