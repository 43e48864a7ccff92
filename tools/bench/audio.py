"""Side-by-side benchmark: resampling to 24 kHz with Python soxr vs Swift `Resampler` (same libsoxr recipe), and the
whole load path (soundfile + mean + soxr vs `AudioFile.loadMono`), on the same 60 s signals, pinned to one core.

    swift build -c release --product csm-bench
    taskset -c 0 tools/.venv/bin/python tools/bench/audio.py .build/release/csm-bench
"""
import json
import pathlib
import subprocess
import sys
import tempfile
import time

import numpy as np
import soundfile as sf
import soxr

SECONDS = 60
REPEATS = 10
ROUNDS = 3
TARGET = 24_000


def best_and_median(fn):
    times = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    times.sort()
    return times[0], times[len(times) // 2], result


def signal(rate: int, channels: int = 1) -> np.ndarray:
    rng = np.random.default_rng(rate)
    t = np.arange(SECONDS * rate) / rate
    x = [0.3 * np.sin(2 * np.pi * (180 + 60 * c) * t * (1 + 0.1 * np.sin(t))) + 0.05 * rng.standard_normal(t.size)
         for c in range(channels)]
    return np.stack(x, axis=1).astype(np.float32).squeeze()


def swift(binary: str, *args: str) -> list[dict]:
    """`csm-bench audio ARGS...`: one JSON line per measurement."""
    out = subprocess.run([binary, "audio", *args], check=True, capture_output=True, text=True).stdout
    return [json.loads(line) for line in out.splitlines()]


def row(what, quality, rate, py, sw, diff):
    ratio = py[0] / sw["best_s"]
    print(f"| {what} | {rate / 1000:g} kHz | {quality} | {SECONDS / py[0]:,.0f}× ({py[0] * 1e3:.1f} ms) | "
          f"{sw['realtime_x']:,.0f}× ({sw['best_s'] * 1e3:.1f} ms) | {ratio:.2f} | {diff:.1e} |")


def fastest(runs):
    """The fastest of several rounds: on a shared machine the minimum is the least disturbed measurement."""
    return min(runs, key=lambda r: r[0] if isinstance(r, tuple) else r["best_s"])


def main() -> None:
    binary = sys.argv[1]
    print(f"libsoxr: python {soxr.soxr_ext.libsoxr_version()}; {SECONDS} s signals, "
          f"fastest of {ROUNDS} rounds × {REPEATS} runs, Python and Swift alternating")
    print("| path | input | quality | Python (× real time, time) | Swift (× real time, time) | Swift speed-up | max abs diff |")
    print("|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = pathlib.Path(tmp)
        for rate in (44_100, 48_000):
            x = signal(rate)
            x.tofile(tmp / "in.f32")
            for name, quality in (("HQ", "high"), ("VHQ", "veryHigh")):
                ours, theirs = [], []
                for _ in range(ROUNDS):
                    runs = swift(binary, "resample", str(tmp / "in.f32"), str(rate), str(REPEATS), str(tmp / "out"))
                    ours.append(next(r for r in runs if r["quality"] == quality))
                    theirs.append(best_and_median(lambda: soxr.resample(x, rate, TARGET, quality=name)))
                py = fastest(theirs)
                diff = np.abs(np.fromfile(tmp / f"out.{quality}", np.float32) - py[2]).max()
                row("resample mono", name, rate, py, fastest(ours), diff)
        # Whole load path: 48 kHz stereo 16-bit WAV → 24 kHz mono.
        wav = tmp / "in.wav"
        sf.write(wav, signal(48_000, channels=2), 48_000, subtype="PCM_16")

        def load():
            y, rate = sf.read(wav, dtype="float32", always_2d=True)
            return soxr.resample(y.mean(axis=1, dtype=np.float32), rate, TARGET)

        ours, theirs = [], []
        for _ in range(ROUNDS):
            ours += swift(binary, "load", str(wav), str(REPEATS), str(tmp / "out.f32"))
            theirs.append(best_and_median(load))
        py = fastest(theirs)
        row("load WAV stereo int16", "HQ", 48_000, py, fastest(ours),
            np.abs(np.fromfile(tmp / "out.f32", np.float32) - py[2]).max())


if __name__ == "__main__":
    main()
