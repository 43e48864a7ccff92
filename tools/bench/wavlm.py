"""Side-by-side WavLM x-vector benchmark helper (scripts/bench_wavlm.sh drives it). Never needed at run time.

  prepare DIR   a WavLMForXVector shaped as microsoft/wavlm-base-plus-sv (base-plus sizes, weighted layer sum, TDNN
                512-512-512-512-1500, 512-d x-vectors; seeded random weights) in DIR/model, and the ~60 s of espeak-ng
                speech in 2-10 s clips of the Mimi benchmark (24 kHz float32) in DIR/clips
  hf DIR        transformers' WavLMForXVector: soxr to 16 kHz, Wav2Vec2FeatureExtractor, then (a) all clips in one
                padded batch with the attention mask, as its speaker-verification example, and (b) one clip at a time;
                prints timings as JSON and writes DIR/clips/hf_xvectors.json (the one-at-a-time embeddings)
  compare DIR   largest relative difference between hf_xvectors.json and swift_xvectors.json, and the cosine of each pair
"""
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
import soundfile as sf
import soxr
import torch
from transformers import Wav2Vec2FeatureExtractor, WavLMConfig, WavLMForXVector

sys.path.insert(0, os.path.dirname(__file__))
import mimi  # noqa: E402  (the same clips as the Mimi benchmark)


def prepare(root):
    model_dir = os.path.join(root, "model")
    if not os.path.exists(os.path.join(model_dir, "model.safetensors")):
        torch.manual_seed(0)
        config = WavLMConfig(use_weighted_layer_sum=True, feat_extract_norm="group", do_stable_layer_norm=False,
                             num_labels=1211, architectures=["WavLMForXVector"])
        model = WavLMForXVector(config).eval()
        model.save_pretrained(model_dir)
        Wav2Vec2FeatureExtractor(feature_size=1, sampling_rate=16000, padding_value=0.0, do_normalize=True,
                                 return_attention_mask=True).save_pretrained(model_dir)
    if not os.path.exists(os.path.join(root, "clips", "clips.json")):
        prepare_clips(os.path.join(root, "clips"))


def prepare_clips(clips_dir):
    """The Mimi benchmark's clips: its text spoken by espeak-ng, 24 kHz, cut at its CLIP_SECONDS (~60 s)."""
    os.makedirs(clips_dir, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        wav = os.path.join(tmp, "speech.wav")
        subprocess.run(["espeak-ng", "-s", "150", "-w", wav, mimi.TEXT], check=True)
        audio, rate = sf.read(wav, dtype="float32")
    audio = soxr.resample(audio, rate, 24000).astype(np.float32)
    while len(audio) < 24000 * sum(mimi.CLIP_SECONDS):
        audio = np.concatenate([audio, audio])
    names, start = [], 0
    for i, seconds in enumerate(mimi.CLIP_SECONDS):
        n = int(seconds * 24000) + 37 * i
        name = f"{i:03d}.f32"
        audio[start:start + n].astype("<f4").tofile(os.path.join(clips_dir, name))
        names.append(name)
        start += n
    with open(os.path.join(clips_dir, "clips.json"), "w") as f:
        json.dump({"clips": names, "seconds": start / 24000}, f)


def load_clips(root):
    clips_dir = os.path.join(root, "clips")
    names = json.load(open(os.path.join(clips_dir, "clips.json")))["clips"]
    return [np.fromfile(os.path.join(clips_dir, n), dtype="<f4") for n in names]


def hf(root, repeats=int(os.environ.get("REPEATS", 2))):
    torch.set_num_threads(int(os.environ.get("THREADS", torch.get_num_threads())))
    t = time.perf_counter()
    model = WavLMForXVector.from_pretrained(os.path.join(root, "model")).eval()
    extractor = Wav2Vec2FeatureExtractor.from_pretrained(os.path.join(root, "model"))
    load_seconds = time.perf_counter() - t
    clips = load_clips(root)
    seconds = sum(len(c) for c in clips) / 24000

    def embed_batched():
        audio = [soxr.resample(c, 24000, 16000) for c in clips]
        inputs = extractor(audio, sampling_rate=16000, padding=True, return_tensors="pt")
        return model(**inputs).embeddings

    def embed_each():
        out = []
        for c in clips:
            inputs = extractor(soxr.resample(c, 24000, 16000), sampling_rate=16000, return_tensors="pt")
            out.append(model(**inputs).embeddings[0])
        return torch.stack(out)

    result = {"audio_seconds": seconds, "clips": len(clips), "threads": torch.get_num_threads(),
              "load_seconds": load_seconds}
    with torch.no_grad():
        model(**extractor(soxr.resample(clips[0][:24000], 24000, 16000), sampling_rate=16000,
                          return_tensors="pt"))  # warm-up
        for name, fn in (("batched", embed_batched), ("each", embed_each)):
            best = cpu = float("inf")
            for _ in range(repeats):
                t, c0 = time.perf_counter(), time.process_time()
                vectors = fn()
                best, cpu = min(best, time.perf_counter() - t), min(cpu, time.process_time() - c0)
            result[f"{name}_seconds"], result[f"{name}_cpu_seconds"] = best, cpu
            if name == "each":
                with open(os.path.join(root, "clips", "hf_xvectors.json"), "w") as f:
                    json.dump({"xvectors": vectors.tolist()}, f)
    print(json.dumps(result, sort_keys=True))


def compare(root):
    hf_vectors = np.array(json.load(open(os.path.join(root, "clips", "hf_xvectors.json")))["xvectors"])
    ours = np.array(json.load(open(os.path.join(root, "clips", "swift_xvectors.json")))["xvectors"])
    rel = np.abs(hf_vectors - ours).max(axis=1) / np.abs(hf_vectors).max(axis=1)
    cos = (hf_vectors * ours).sum(1) / np.linalg.norm(hf_vectors, axis=1) / np.linalg.norm(ours, axis=1)
    print(json.dumps({"max_relative_difference": float(rel.max()), "min_cosine": float(cos.min())}))


if __name__ == "__main__":
    {"prepare": prepare, "hf": hf, "compare": compare}[sys.argv[1]](sys.argv[2])
