"""The Python preprocessing pipeline that `csm preprocess` replaces, as the seed describes it: walk
ROOT/<lang>/<conversation>/segments/, pair script lines with wavs, filter by duration and text length, build one
sample per kept segment with up to N preceding kept segments as context, lay each sample out with the transformers
CsmProcessor chat template (output_labels=True), and encode every clip with MimiModel, one clip at a time.

Used two ways:
- tools/fixtures/dataset.py imports `preprocess` to write the expected samples the Swift tests compare against;
- run as a script it is the reference side of the preprocess benchmark (BENCHMARKS.md "Preprocess"):
    tools/.venv/bin/python tools/preprocess_reference.py --input_path DATA --model_folder MODEL --output_path OUT

The model folder holds tokenizer files and a CSM-style config.json whose `codec_config` describes the Mimi, with
`codec_model.*` weights in model.safetensors.
"""
import argparse
import json
import math
import os
import re
import time

import numpy as np
import soundfile as sf
import soxr
import torch
from safetensors.torch import load_file, save_file

SCRIPT = "vibevoice-podcast-script.txt"
LINE = re.compile(r"^\[(\d+)\]:(.*)$")
WAV = re.compile(r"^(\d+)_speaker(\d+)\.wav$", re.IGNORECASE)

# The rendering half of the CSM checkpoint's chat template (the other half only validates the messages).
CSM_CHAT_TEMPLATE = (
    "{%- for message in messages %}"
    "{{- bos_token }}{{- '[' + message['role'] + ']' }}{{- message['content'][0]['text'] }}{{- eos_token }}"
    "{%- if message['content']|length > 1 %}{{- '<|AUDIO|><|audio_eos|>' }}{%- endif %}"
    "{%- endfor %}"
)


def load_processor(model_folder):
    from transformers import AutoTokenizer, CsmProcessor, EncodecFeatureExtractor

    tokenizer = AutoTokenizer.from_pretrained(model_folder)
    return CsmProcessor(EncodecFeatureExtractor(feature_size=1, sampling_rate=24000), tokenizer,
                        chat_template=CSM_CHAT_TEMPLATE)


def load_codec(model_folder):
    """The CSM checkpoint's codec as a transformers MimiModel (from_pretrained applies the checkpoint's key layout)."""
    import tempfile

    from transformers import MimiModel

    config = json.load(open(os.path.join(model_folder, "config.json")))
    weights = load_file(os.path.join(model_folder, "model.safetensors"))
    with tempfile.TemporaryDirectory() as tmp:
        with open(os.path.join(tmp, "config.json"), "w") as f:
            json.dump(dict(config["codec_config"], model_type="mimi", architectures=["MimiModel"]), f)
        save_file({k[len("codec_model."):]: v.contiguous() for k, v in weights.items() if k.startswith("codec_model.")},
                  os.path.join(tmp, "model.safetensors"))
        codec = MimiModel.from_pretrained(tmp, dtype=torch.float32)
    return codec.eval(), config.get("num_codebooks", 32)


def load_audio(path):
    """Mono float32 at 24 kHz: soundfile + soxr (HQ), as transformers' `load_audio(backend="soundfile")`."""
    audio, rate = sf.read(path, dtype="float32", always_2d=True)
    if audio.shape[0] == 0:
        raise ValueError("empty audio")
    audio = audio.mean(axis=1)
    if rate != 24000:
        audio = soxr.resample(audio, rate, 24000).astype(np.float32)
    return audio


def conversations(root):
    for lang in sorted(os.listdir(root)):
        if lang.startswith((".", "_")) or not os.path.isdir(os.path.join(root, lang)):
            continue
        for name in sorted(os.listdir(os.path.join(root, lang))):
            folder = os.path.join(root, lang, name)
            if not name.startswith((".", "_")) and os.path.isdir(folder):
                yield f"{lang}/{name}", os.path.join(folder, "segments")


def segments(folder, skips, conv):
    """[(wav path, speaker id, text)] of a conversation; records skips like the Swift report (code only)."""
    if not os.path.isdir(folder):
        skips.append((conv, None, "no_segments_folder"))
        return []
    wavs = {}
    for f in os.listdir(folder):
        m = WAV.match(f)
        if m:
            wavs.setdefault(int(m.group(1)), []).append((f, int(m.group(2))))
    script = os.path.join(folder, SCRIPT)
    if not os.path.exists(script):
        skips.append((conv, None, "missing_script" if wavs else "empty_conversation"))
        return []
    raw = [l for l in open(script, "rb").read().removeprefix(b"\xef\xbb\xbf").split(b"\n") if l.strip()]
    if len(raw) != sum(len(v) for v in wavs.values()):
        skips.append((conv, None, "count_mismatch"))
        return []
    out = []
    for i, line in enumerate(raw, 1):
        (wav, suffix), = wavs[i]
        try:
            text = line.decode("utf-8").strip()
        except UnicodeDecodeError:
            skips.append((conv, wav, "not_utf8"))
            continue
        m = LINE.match(text)
        if not m or int(m.group(1)) < 1:
            skips.append((conv, wav, "malformed_line"))
            continue
        if int(m.group(1)) != suffix:
            skips.append((conv, wav, "speaker_mismatch"))
            continue
        out.append((os.path.join(folder, wav), int(m.group(1)) - 1, m.group(2).strip()))
    return out


def preprocess(root, processor, codec, num_codebooks, num_context_turns=3, max_audio_seconds=10.0,
               min_audio_seconds=0.5, text_max_length=256, encode_once=False):
    """Yields (conversation id, [sample]) per conversation; a sample is a dict with input_ids, labels and codes
    (one frames×codebooks array per turn). The skip list is filled as a side effect: preprocess.skips.

    By default every turn of every sample is encoded, as CsmForConditionalGeneration does with the processor's
    input_values (a segment is encoded once per sample it appears in); `encode_once` caches each segment's codes."""
    preprocess.skips = []
    for conv, folder in conversations(root):
        kept = []
        for wav, speaker, text in segments(folder, preprocess.skips, conv):
            name = os.path.basename(wav)
            try:
                audio = load_audio(wav)
            except Exception:
                preprocess.skips.append((conv, name, "bad_audio"))
                continue
            seconds = len(audio) / 24000
            if seconds < min_audio_seconds:
                preprocess.skips.append((conv, name, "too_short"))
            elif seconds > max_audio_seconds:
                preprocess.skips.append((conv, name, "too_long"))
            elif len(processor.tokenizer(text, add_special_tokens=False)["input_ids"]) > text_max_length:
                preprocess.skips.append((conv, name, "text_too_long"))
            else:
                kept.append({"speaker": speaker, "text": text, "audio": audio})
        samples = []
        for j in range(len(kept)):
            turns = kept[max(0, j - num_context_turns): j + 1]
            messages = [{"role": str(t["speaker"]), "content": [{"type": "text", "text": t["text"]},
                                                                  {"type": "audio", "audio": t["audio"]}]}
                        for t in turns]
            enc = processor.apply_chat_template(messages, tokenize=True, return_dict=True,
                                               processor_kwargs={"output_labels": True})
            codes = []
            with torch.no_grad():
                for t in turns:  # one clip at a time, as CsmForConditionalGeneration does
                    if encode_once and "codes" in t:
                        codes.append(t["codes"])
                        continue
                    x = torch.from_numpy(t["audio"]).view(1, 1, -1)
                    c = codec.encode(x, num_quantizers=num_codebooks).audio_codes[0].transpose(0, 1)
                    assert c.shape[0] == math.ceil(x.shape[-1] / 1920)
                    codes.append(c)
                    if encode_once:
                        t["codes"] = c
            samples.append({"input_ids": enc["input_ids"][0], "labels": enc["labels"][0], "codes": codes,
                            "segments": [t["text"] for t in turns]})
        yield conv, samples


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--input_path", required=True)
    p.add_argument("--output_path", default="./preprocessed-reference")
    p.add_argument("--model_folder", required=True)
    p.add_argument("--num_context_turns", type=int, default=3)
    p.add_argument("--max_audio_seconds", type=float, default=10.0)
    p.add_argument("--min_audio_seconds", type=float, default=0.5)
    p.add_argument("--text_max_length", type=int, default=256)
    p.add_argument("--encode_once", action="store_true", help="encode each segment once, not once per sample")
    a = p.parse_args()
    start = time.time()
    processor = load_processor(a.model_folder)
    codec, k = load_codec(a.model_folder)
    os.makedirs(a.output_path, exist_ok=True)
    n = 0
    for conv, samples in preprocess(a.input_path, processor, codec, k, a.num_context_turns, a.max_audio_seconds,
                                    a.min_audio_seconds, a.text_max_length, a.encode_once):
        tensors = {}
        for i, s in enumerate(samples):
            tensors[f"{i}.input_ids"] = s["input_ids"].contiguous()
            tensors[f"{i}.labels"] = s["labels"].contiguous()
            tensors[f"{i}.codes"] = torch.cat(s["codes"]).to(torch.int16).contiguous()
        if tensors:
            save_file(tensors, os.path.join(a.output_path, conv.replace("/", "__") + ".safetensors"))
        n += len(samples)
    print(json.dumps({"samples": n, "skips": len(preprocess.skips), "seconds": time.time() - start}))


if __name__ == "__main__":
    main()
