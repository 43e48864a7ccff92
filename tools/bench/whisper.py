"""Side-by-side Whisper benchmark helper (scripts/bench_whisper.sh drives it). Never needed at run time.

  prepare DIR   a Whisper-base-shaped WhisperForConditionalGeneration (d_model 512, 6+6 layers, 8 heads, vocab 51865,
                80 mel bins; seeded random weights) with a tokenizer.json in Whisper's layout (50257 byte-level BPE
                tokens, <|endoftext|>, <|startoftranscript|>, 99 languages, tasks, <|notimestamps|>, 1501 timestamps)
                in DIR/model, and ~60 s of espeak-ng speech cut into 2-10 s clips in DIR/clips (float32, 16 kHz)
  hf DIR        WhisperFeatureExtractor + generate(language="en", task="transcribe") on all clips as one batch +
                batch_decode (WHISPER_LANGUAGE=de, or WHISPER_LANGUAGE=detect for language=None); prints timings as JSON and
                writes DIR/clips/hf_transcripts.json
  compare DIR   transcripts agreement between DIR/clips/hf_transcripts.json and swift_transcripts.json

Random weights never say <|endoftext|>: generation_config.json's max_length (32: ~3 tokens a second of the longest
clip) stands in for a real transcript's length, so every clip generates 32 tokens on both sides.
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
from tokenizers import Tokenizer, decoders, models, pre_tokenizers
from transformers import (GenerationConfig, WhisperConfig, WhisperFeatureExtractor,
                          WhisperForConditionalGeneration, WhisperTokenizer)
from transformers.models.whisper.tokenization_whisper import LANGUAGES

sys.path.insert(0, os.path.dirname(__file__))
from mimi import TEXT, CLIP_SECONDS  # noqa: E402  (the same speech and cuts as the Mimi benchmark)

RATE = 16000
MAX_LENGTH = 32


def byte_level_bpe(size: int, seed: int = 0):
    """A valid byte-level BPE of `size` tokens: the 256 byte symbols, then merges of random existing pairs."""
    alphabet = pre_tokenizers.ByteLevel.alphabet()
    vocab = {c: i for i, c in enumerate(sorted(alphabet))}
    tokens = list(vocab)
    merges = []
    rng = np.random.default_rng(seed)
    while len(vocab) < size:
        a, b = tokens[rng.integers(len(tokens))], tokens[rng.integers(min(len(tokens), 2000))]
        if a + b in vocab or len(a + b) > 12:
            continue
        vocab[a + b] = len(vocab)
        tokens.append(a + b)
        merges.append((a, b))
    return vocab, merges


def build_tokenizer(folder: str) -> dict:
    vocab, merges = byte_level_bpe(50257)
    tok = Tokenizer(models.BPE(vocab=vocab, merges=merges))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    languages = [f"<|{code}|>" for code in list(LANGUAGES)[:99]]
    specials = (["<|endoftext|>", "<|startoftranscript|>"] + languages
                + ["<|translate|>", "<|transcribe|>", "<|startoflm|>", "<|startofprev|>", "<|nospeech|>",
                   "<|notimestamps|>"])
    tok.add_special_tokens(specials)
    tok.add_tokens([f"<|{i * 0.02:.2f}|>" for i in range(1501)])
    staging = os.path.join(folder, "_tokenizer.json")
    tok.save(staging)
    wt = WhisperTokenizer(tokenizer_file=staging, unk_token="<|endoftext|>", bos_token="<|endoftext|>",
                          eos_token="<|endoftext|>", pad_token="<|endoftext|>")
    wt.save_pretrained(folder)
    os.remove(staging)
    assert len(wt) == 51865, len(wt)
    return {t: wt.convert_tokens_to_ids(t) for t in specials}, languages


def prepare(root):
    model_dir = os.path.join(root, "model")
    if not os.path.exists(os.path.join(model_dir, "model.safetensors")):
        os.makedirs(model_dir, exist_ok=True)
        ids, languages = build_tokenizer(model_dir)
        eot, sot = ids["<|endoftext|>"], ids["<|startoftranscript|>"]
        # openai/whisper-base's sizes and token layout.
        config = WhisperConfig(vocab_size=51865, num_mel_bins=80, d_model=512, encoder_layers=6, decoder_layers=6,
                               encoder_attention_heads=8, decoder_attention_heads=8, encoder_ffn_dim=2048,
                               decoder_ffn_dim=2048, max_source_positions=1500, max_target_positions=448,
                               pad_token_id=eot, bos_token_id=eot, eos_token_id=eot, decoder_start_token_id=sot)
        torch.manual_seed(0)
        model = WhisperForConditionalGeneration(config).eval()
        suppress = [ids[t] for t in ["<|translate|>", "<|transcribe|>", "<|startoflm|>", "<|startofprev|>",
                                     "<|nospeech|>"]]
        model.generation_config = GenerationConfig(
            max_length=MAX_LENGTH, decoder_start_token_id=sot, pad_token_id=eot, bos_token_id=eot, eos_token_id=eot,
            begin_suppress_tokens=[220, eot], suppress_tokens=suppress, is_multilingual=True,
            lang_to_id={t: ids[t] for t in languages},
            task_to_id={"transcribe": ids["<|transcribe|>"], "translate": ids["<|translate|>"]},
            no_timestamps_token_id=ids["<|notimestamps|>"], forced_decoder_ids=[[1, None], [2, ids["<|transcribe|>"]]],
            return_timestamps=False)
        model.save_pretrained(model_dir)
        WhisperFeatureExtractor(feature_size=80, sampling_rate=RATE).save_pretrained(model_dir)
    clips_dir = os.path.join(root, "clips")
    os.makedirs(clips_dir, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        wav = os.path.join(tmp, "speech.wav")
        subprocess.run(["espeak-ng", "-s", "150", "-w", wav, TEXT], check=True)
        audio, rate = sf.read(wav, dtype="float32")
    audio = soxr.resample(audio, rate, RATE).astype(np.float32)
    while len(audio) < RATE * sum(CLIP_SECONDS):
        audio = np.concatenate([audio, audio])
    names, start = [], 0
    for i, seconds in enumerate(CLIP_SECONDS):
        n = int(seconds * RATE) + 37 * i
        name = f"{i:03d}.f32"
        audio[start:start + n].astype("<f4").tofile(os.path.join(clips_dir, name))
        names.append(name)
        start += n
    with open(os.path.join(clips_dir, "clips.json"), "w") as f:
        json.dump({"clips": names, "seconds": start / RATE, "sample_rate": RATE}, f)


def load_clips(root):
    clips_dir = os.path.join(root, "clips")
    names = json.load(open(os.path.join(clips_dir, "clips.json")))["clips"]
    return [np.fromfile(os.path.join(clips_dir, n), dtype="<f4") for n in names]


def hf(root, repeats=int(os.environ.get("REPEATS", 2))):
    torch.set_num_threads(int(os.environ.get("THREADS", torch.get_num_threads())))
    folder = os.path.join(root, "model")
    model = WhisperForConditionalGeneration.from_pretrained(folder).eval()
    extractor = WhisperFeatureExtractor.from_pretrained(folder)
    tokenizer = WhisperTokenizer.from_pretrained(folder)
    clips = load_clips(root)
    seconds = sum(len(c) for c in clips) / RATE
    language = os.environ.get("WHISPER_LANGUAGE", "en")

    def transcribe(batch):
        features = extractor(batch, sampling_rate=RATE, return_tensors="pt").input_features
        ids = model.generate(features, language=None if language == "detect" else language, task="transcribe")
        return tokenizer.batch_decode(ids, skip_special_tokens=True), ids

    with torch.no_grad():
        transcribe(clips[:1])  # warm-up
        best = cpu = float("inf")
        for _ in range(repeats):
            t, c0 = time.perf_counter(), time.process_time()
            texts, ids = transcribe(clips)
            best = min(best, time.perf_counter() - t)
            cpu = min(cpu, time.process_time() - c0)
    eot = tokenizer.convert_tokens_to_ids("<|endoftext|>")
    tokens = [[t for t in row if t != eot] for row in ids.tolist()]
    with open(os.path.join(root, "clips", "hf_transcripts.json"), "w") as f:
        json.dump({"texts": texts, "tokens": tokens}, f)
    print(json.dumps({"audio_seconds": seconds, "clips": len(clips), "threads": torch.get_num_threads(), "language": language,
                      "seconds": best, "cpu_seconds": cpu, "rtf": seconds / best,
                      "tokens": sum(len(t) for t in tokens)}, sort_keys=True))


def compare(root):
    clips_dir = os.path.join(root, "clips")
    ours = json.load(open(os.path.join(clips_dir, "swift_transcripts.json")))
    theirs = json.load(open(os.path.join(clips_dir, "hf_transcripts.json")))
    same_text = sum(a == b for a, b in zip(ours["texts"], theirs["texts"]))
    same_ids = sum(a == b for a, b in zip(ours["tokens"], theirs["tokens"]))
    print(json.dumps({"clips": len(theirs["texts"]), "same_texts": same_text, "same_token_ids": same_ids}))


if __name__ == "__main__":
    {"prepare": prepare, "hf": hf, "compare": compare}[sys.argv[1]](sys.argv[2])
