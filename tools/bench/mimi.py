"""Side-by-side Mimi benchmark helper (scripts/bench_mimi.sh drives it). Never needed at run time.

  prepare DIR   full-size MimiModel (default MimiConfig, seeded random weights with spread-out codebooks) in
                DIR/model, and ~60 s of espeak-ng speech cut into 2-10 s clips in DIR/clips (float32, 24 kHz)
  hf DIR        transformers' MimiModel.encode / decode, one clip at a time, as the Python pipeline calls it;
                prints timings as JSON and writes DIR/clips/hf_codes.json
  compare DIR   codes agreement between DIR/clips/hf_codes.json and swift_codes.json
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
from transformers import MimiConfig, MimiModel

TEXT = (
    "The quick brown fox jumps over the lazy dog. Speech codecs turn sound into a short list of numbers. "
    "Every eighty milliseconds, Mimi writes one frame of thirty two codes. A semantic code comes first, then "
    "thirty one acoustic codes refine the waveform. We measure how many seconds of audio each side encodes "
    "per second of compute, on the same clips, in the same run. Good benchmarks are boring, repeatable and "
    "honest about their machine. This sentence is here to make the recording a little longer, so that the "
    "clips cover a full minute of speech, with pauses, numbers like 1234, and questions? Yes, questions too. "
    "Finally, the last clip ends somewhere in the middle of a word, which is exactly what real data does."
)
CLIP_SECONDS = [2.0, 7.5, 3.2, 10.0, 5.1, 2.6, 9.1, 4.4, 6.3, 2.2, 8.0]  # 60.4 s when the speech is long enough


def prepare(root):
    model_dir = os.path.join(root, "model")
    if not os.path.exists(os.path.join(model_dir, "model.safetensors")):
        torch.manual_seed(0)
        model = MimiModel(MimiConfig()).eval()
        g = torch.Generator().manual_seed(1)
        with torch.no_grad():
            for rvq in (model.quantizer.semantic_residual_vector_quantizer,
                        model.quantizer.acoustic_residual_vector_quantizer):
                scale = 1.0
                for layer in rvq.layers:
                    book = layer.codebook
                    book.embed_sum.copy_(scale * torch.randn(book.embed_sum.shape, generator=g))
                    book.cluster_usage.copy_(torch.rand(book.cluster_usage.shape, generator=g) + 0.5)
                    book.embed_sum.mul_(book.cluster_usage[:, None])
                    book._embed = None
                    scale *= 0.9
        model.save_pretrained(model_dir)
    clips_dir = os.path.join(root, "clips")
    os.makedirs(clips_dir, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        wav = os.path.join(tmp, "speech.wav")
        subprocess.run(["espeak-ng", "-s", "150", "-w", wav, TEXT], check=True)
        audio, rate = sf.read(wav, dtype="float32")
    audio = soxr.resample(audio, rate, 24000).astype(np.float32)
    while len(audio) < 24000 * sum(CLIP_SECONDS):  # loop the speech if espeak was quicker than a minute
        audio = np.concatenate([audio, audio])
    names, start = [], 0
    for i, seconds in enumerate(CLIP_SECONDS):
        n = int(seconds * 24000) + 37 * i  # lengths that are not multiples of the frame size
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
    model = MimiModel.from_pretrained(os.path.join(root, "model")).eval()
    clips = [torch.from_numpy(c)[None, None] for c in load_clips(root)]
    seconds = sum(c.shape[-1] for c in clips) / 24000
    with torch.no_grad():
        model.encode(clips[0][..., :24000])  # warm-up
        best_encode = best_decode = cpu_encode = cpu_decode = float("inf")
        for _ in range(repeats):
            t, c0 = time.perf_counter(), time.process_time()
            codes = [model.encode(c).audio_codes for c in clips]
            best_encode = min(best_encode, time.perf_counter() - t)
            cpu_encode = min(cpu_encode, time.process_time() - c0)
            t, c0 = time.perf_counter(), time.process_time()
            for c in codes:
                model.decode(c)
            best_decode = min(best_decode, time.perf_counter() - t)
            cpu_decode = min(cpu_decode, time.process_time() - c0)
    with open(os.path.join(root, "clips", "hf_codes.json"), "w") as f:
        json.dump({"codes": [c[0].T.tolist() for c in codes]}, f)
    print(json.dumps({"audio_seconds": seconds, "clips": len(clips), "threads": torch.get_num_threads(),
                      "encode_seconds": best_encode, "decode_seconds": best_decode,
                      "encode_cpu_seconds": cpu_encode, "decode_cpu_seconds": cpu_decode,
                      "encode_rtf": seconds / best_encode, "decode_rtf": seconds / best_decode}, sort_keys=True))


def compare(root):
    clips_dir = os.path.join(root, "clips")
    ours = json.load(open(os.path.join(clips_dir, "swift_codes.json")))["codes"]
    theirs = json.load(open(os.path.join(clips_dir, "hf_codes.json")))["codes"]
    equal = total = 0
    for a, b in zip(ours, theirs):
        if len(a) != len(b):
            print(json.dumps({"error": f"frame counts differ: {len(a)} vs {len(b)}"}))
            sys.exit(1)
        x, y = np.array(a), np.array(b)
        equal += int((x == y).sum())
        total += x.size
    print(json.dumps({"codes_equal": equal, "codes_total": total, "fraction": equal / total}))


if __name__ == "__main__":
    {"prepare": prepare, "hf": hf, "compare": compare}[sys.argv[1]](sys.argv[2])
