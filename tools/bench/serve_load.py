"""Drives a running `csm serve` with N concurrent clients on loopback and reports what they saw.

    tools/.venv/bin/python tools/bench/serve_load.py --url http://127.0.0.1:PORT --model NAME \
        [--clients 8] [--requests 5] [--voice 0] [--text TEXT] [--format pcm] [--api_key KEY] [--pid SERVER_PID] \
        [--json OUT.json]

Each client sends `--requests` POST /v1/audio/speech one after another (streamed, read chunk by chunk); all start
together. Reported (stdout, and OUT.json): failures (status ≠ 200, a connection error, or a body that is not whole
80 ms frames), latency and time to the first audio byte (p50/p95/max), frames received (1920 samples = 3840 bytes
of pcm each), total frames per second of wall time, and with --pid the server's peak resident memory (sampled
every 20 ms) and the CPU time it used (frames per CPU second: steadier than wall time on a shared machine). Loopback only, bounded: clients × requests requests, each with a timeout.
"""
import argparse
import http.client
import json
import sys
import threading
import time
import urllib.parse

FRAME_BYTES = 1920 * 2  # one 80 ms Mimi frame of 16-bit mono at 24 kHz


def percentile(values, q):
    if not values:
        return float("nan")
    s = sorted(values)
    return s[min(len(s) - 1, max(0, round(q / 100 * (len(s) - 1))))]


def one_request(url, body, headers, timeout):
    """(status, seconds to first body byte, seconds in all, body bytes)."""
    parts = urllib.parse.urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    start = time.perf_counter()
    try:
        connection.request("POST", "/v1/audio/speech", body=body, headers=headers)
        response = connection.getresponse()
        first, size = None, 0
        while True:
            chunk = response.read1(65536)
            if not chunk:
                break
            if first is None:
                first = time.perf_counter() - start
            size += len(chunk)
        return response.status, first, time.perf_counter() - start, size
    finally:
        connection.close()


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--url", required=True, help="the server, http://127.0.0.1:PORT")
    p.add_argument("--model", required=True)
    p.add_argument("--voice", default="0")
    p.add_argument("--text", default="Hello there, this is a load test of the speech server.")
    p.add_argument("--format", default="pcm", choices=["pcm", "wav"])
    p.add_argument("--clients", type=int, default=8)
    p.add_argument("--requests", type=int, default=5, help="per client, one after another")
    p.add_argument("--api_key")
    p.add_argument("--pid", type=int, help="the server's process id, to sample its resident memory")
    p.add_argument("--timeout", type=float, default=600, help="seconds per request")
    p.add_argument("--json", help="also write the report here")
    a = p.parse_args(argv)
    if urllib.parse.urlsplit(a.url).hostname not in ("127.0.0.1", "localhost", "::1"):
        sys.exit(f"{a.url}: loopback addresses only")

    headers = {"Content-Type": "application/json"}
    if a.api_key:
        headers["Authorization"] = f"Bearer {a.api_key}"
    body = json.dumps({"model": a.model, "voice": a.voice, "input": a.text, "response_format": a.format})
    header_bytes = 44 if a.format == "wav" else 0

    results, failures, lock = [], [], threading.Lock()
    peak_rss, stop = [0], threading.Event()

    def sample_rss():
        import psutil
        process = psutil.Process(a.pid)
        while not stop.is_set():
            try:
                peak_rss[0] = max(peak_rss[0], process.memory_info().rss)
            except psutil.Error:
                return
            time.sleep(0.02)

    barrier = threading.Barrier(a.clients)

    def client(index):
        barrier.wait()
        for r in range(a.requests):
            try:
                status, first, seconds, size = one_request(a.url, body, headers, a.timeout)
                audio = size - header_bytes
                ok = status == 200 and audio > 0 and audio % FRAME_BYTES == 0
                with lock:
                    (results if ok else failures).append(
                        {"client": index, "request": r, "status": status, "first_byte_s": first, "seconds": seconds,
                         "frames": audio // FRAME_BYTES if ok else 0, "bytes": size})
            except Exception as e:  # a failure to report, not to stop the others
                with lock:
                    failures.append({"client": index, "request": r, "error": repr(e)})

    def cpu_seconds():
        import psutil
        t = psutil.Process(a.pid).cpu_times()
        return t.user + t.system

    cpu_start = cpu_seconds() if a.pid else None
    sampler = threading.Thread(target=sample_rss, daemon=True) if a.pid else None
    if sampler:
        sampler.start()
    threads = [threading.Thread(target=client, args=(i,)) for i in range(a.clients)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - start
    stop.set()
    if sampler:
        sampler.join()
    cpu = cpu_seconds() - cpu_start if a.pid else None

    latencies = [r["seconds"] for r in results]
    firsts = [r["first_byte_s"] for r in results]
    frames = sum(r["frames"] for r in results)
    report = {
        "clients": a.clients, "requests": a.clients * a.requests, "ok": len(results), "failures": len(failures),
        "wall_s": round(wall, 3), "frames": frames, "frames_per_s": round(frames / wall, 2),
        "latency_s": {"p50": round(percentile(latencies, 50), 3), "p95": round(percentile(latencies, 95), 3),
                      "max": round(max(latencies, default=float("nan")), 3)},
        "first_byte_s": {"p50": round(percentile(firsts, 50), 3), "p95": round(percentile(firsts, 95), 3),
                         "max": round(max(firsts, default=float("nan")), 3)},
        "server_peak_rss_mb": round(peak_rss[0] / 2**20, 1) if a.pid else None,
        "server_cpu_s": round(cpu, 2) if a.pid else None,
        "frames_per_cpu_s": round(frames / cpu, 2) if a.pid and cpu > 0 else None,
        "failed": failures[:10],
    }
    print(json.dumps(report))
    if a.json:
        with open(a.json, "w") as f:
            json.dump(report, f, indent=1)
    return 0 if not failures else 1


if __name__ == "__main__":
    sys.exit(main())
