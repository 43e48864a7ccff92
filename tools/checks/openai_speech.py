"""Talks to a running `csm serve` with OpenAI's own Python client, as an application would.

    tools/.venv/bin/python tools/checks/openai_speech.py --base_url http://127.0.0.1:PORT/v1 --api_key KEY \
        --model NAME --voice VOICE --text TEXT --seed N --out DIR

Writes into DIR what the server sent, for the caller to compare with `csm generate`:
- create.wav   `client.audio.speech.create(response_format="wav")` (read back with soundfile = libsndfile)
- create.flac  the same with response_format="flac"
- stream.pcm   `client.audio.speech.with_streaming_response.create(response_format="pcm")`, chunk by chunk
- sse.pcm      stream_format="sse": the base64 `speech.audio.delta` payloads joined
and checks what the client sees: `models.list()` names MODEL; a wrong key, an unknown voice or model, mp3, speed 2
and an empty input raise the client's own exceptions with OpenAI's error fields; a streamed response that is
closed after its first chunk makes the server stop that generation (GET /health counts it cancelled).
Prints one line per finding and `summary.json` in DIR; exit status 0 when everything holds.
"""
import argparse
import base64
import json
import os
import sys
import time
import urllib.request

import numpy as np
import openai
import soundfile


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--base_url", required=True)
    p.add_argument("--api_key", required=True)
    p.add_argument("--model", required=True)
    p.add_argument("--voice", required=True)
    p.add_argument("--text", required=True)
    p.add_argument("--seed", type=int, required=True)
    p.add_argument("--out", required=True)
    a = p.parse_args(argv)
    os.makedirs(a.out, exist_ok=True)
    problems, summary = [], {}
    client = openai.OpenAI(base_url=a.base_url, api_key=a.api_key, max_retries=0, timeout=120)
    speech = dict(model=a.model, voice=a.voice, input=a.text, extra_body={"seed": a.seed})

    ids = [m.id for m in client.models.list()]
    if ids != [a.model]:
        problems.append(f"models.list(): {ids}, expected [{a.model!r}]")

    # Whole responses: wav and flac, read back by libsndfile.
    for fmt in ["wav", "flac"]:
        start = time.time()
        response = client.audio.speech.create(response_format=fmt, **speech)
        path = os.path.join(a.out, f"create.{fmt}")
        response.write_to_file(path)
        data, rate = soundfile.read(path, dtype="int16")
        info = soundfile.info(path)
        summary[fmt] = {"bytes": os.path.getsize(path), "samples": len(data), "rate": rate,
                        "channels": info.channels, "format": info.format, "seconds": round(time.time() - start, 3)}
        if rate != 24000 or info.channels != 1 or len(data) == 0 or len(data) % 1920:
            problems.append(f"create({fmt}): {summary[fmt]}")
        print(f"create({fmt}): {summary[fmt]}")

    # Streamed pcm, chunk by chunk.
    chunks, first = [], None
    start = time.time()
    with client.audio.speech.with_streaming_response.create(response_format="pcm", **speech) as response:
        if response.headers.get("content-type") != "audio/pcm":
            problems.append(f"stream(pcm): content-type {response.headers.get('content-type')}")
        for chunk in response.iter_bytes():
            if first is None:
                first = time.time() - start
            chunks.append(chunk)
    pcm = b"".join(chunks)
    with open(os.path.join(a.out, "stream.pcm"), "wb") as f:
        f.write(pcm)
    summary["pcm"] = {"bytes": len(pcm), "chunks": len(chunks), "first_byte_s": round(first or -1, 3),
                      "seconds": round(time.time() - start, 3)}
    print(f"stream(pcm): {summary['pcm']}")
    wav, _ = soundfile.read(os.path.join(a.out, "create.wav"), dtype="int16")
    if np.frombuffer(pcm, dtype="<i2").tolist() != wav.tolist():
        problems.append("stream(pcm) samples differ from create(wav) samples (same seed)")

    # Server-sent events: base64 deltas of the pcm bytes, then speech.audio.done with usage.
    events = []
    with client.audio.speech.with_streaming_response.create(response_format="pcm", stream_format="sse",
                                                            **speech) as response:
        for line in response.iter_lines():
            if line.startswith("data: "):
                events.append(json.loads(line[6:]))
    deltas = b"".join(base64.b64decode(e["audio"]) for e in events if e["type"] == "speech.audio.delta")
    with open(os.path.join(a.out, "sse.pcm"), "wb") as f:
        f.write(deltas)
    done = [e for e in events if e["type"] == "speech.audio.done"]
    summary["sse"] = {"events": len(events), "bytes": len(deltas), "done": done[-1] if done else None}
    print(f"stream(sse): {summary['sse']}")
    if deltas != pcm:
        problems.append("sse deltas differ from the streamed pcm")
    if len(done) != 1 or events[-1]["type"] != "speech.audio.done" or done[0]["usage"]["output_tokens"] * 3840 != len(pcm):
        problems.append(f"sse: expected one final speech.audio.done whose output_tokens are the frames: {done}")

    # Refusals, as the client raises them.
    def refused(what, exception, status, param, call):
        try:
            call()
        except exception as e:
            body = e.body if isinstance(e.body, dict) else {}
            print(f"{what}: {type(e).__name__} {e.status_code} {body}")
            if e.status_code != status or body.get("param") != param or not body.get("message") or "type" not in body:
                problems.append(f"{what}: status {e.status_code}, body {body}; expected {status}, param {param}")
            return
        except Exception as e:
            problems.append(f"{what}: raised {type(e).__name__}: {e}, expected {exception.__name__}")
            return
        problems.append(f"{what}: accepted, expected {exception.__name__}")

    bad_key = openai.OpenAI(base_url=a.base_url, api_key="wrong-key", max_retries=0)
    refused("wrong key", openai.AuthenticationError, 401, None,
            lambda: bad_key.audio.speech.create(response_format="wav", **speech))
    refused("unknown voice", openai.BadRequestError, 400, "voice",
            lambda: client.audio.speech.create(**{**speech, "voice": "nobody"}))
    refused("unknown model", openai.NotFoundError, 404, "model",
            lambda: client.audio.speech.create(**{**speech, "model": "tts-1"}))
    refused("mp3", openai.BadRequestError, 400, "response_format",
            lambda: client.audio.speech.create(response_format="mp3", **speech))
    refused("speed 2", openai.BadRequestError, 400, "speed",
            lambda: client.audio.speech.create(speed=2.0, **speech))
    refused("empty input", openai.BadRequestError, 400, "input",
            lambda: client.audio.speech.create(**{**speech, "input": "  "}))

    # A client that goes away: read one chunk of a stream, close it; the server must cancel that generation.
    health_url = a.base_url.rsplit("/v1", 1)[0] + "/health"

    def health():
        with urllib.request.urlopen(health_url, timeout=10) as r:
            return json.load(r)["requests"]

    before = health()
    with client.audio.speech.with_streaming_response.create(response_format="pcm", **speech) as response:
        next(response.iter_bytes())
    deadline, after = time.time() + 30, health()
    while (after["cancelled"] == before["cancelled"] or after["active"]) and time.time() < deadline:
        time.sleep(0.05)
        after = health()
    summary["disconnect"] = {"before": before, "after": after}
    print(f"disconnect: {summary['disconnect']}")
    if after["cancelled"] != before["cancelled"] + 1:
        problems.append(f"a closed stream was not cancelled: /health before {before}, after {after}")
    generated = after["frames"] - before["frames"]
    if generated * 3840 >= len(pcm):
        problems.append(f"the closed stream generated {generated} frames, as many as a whole response")

    with open(os.path.join(a.out, "summary.json"), "w") as f:
        json.dump(summary, f, indent=1)
    for problem in problems:
        print("FAIL:", problem)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
