#!/usr/bin/env bash
# csm serve under concurrent load: total frames/s and time to the first audio byte with 1 client, then N clients
# at once (each streams REQUESTS requests one after another), same server, same text; loopback only.
#   scripts/bench_serve.sh [MODEL_DIR] [CLIENTS]   (MODEL_DIR default .bench-cache/csm-1b-random, written if missing)
# Environment: DTYPE (bf16), SECONDS_OF_AUDIO per request (5), REQUESTS per client (2), THREADS (nproc), DEVICE (cpu),
# CONFIG (release; debug reuses the test build).
# The ratio printed last is "N concurrent requests vs one request" in total frames/s.
set -euo pipefail
cd "$(dirname "$0")/.."
model=${1:-.bench-cache/csm-1b-random}
clients=${2:-4}
dtype=${DTYPE:-bf16}
audio_seconds=${SECONDS_OF_AUDIO:-5}
requests=${REQUESTS:-2}
threads=${THREADS:-$(nproc)}
device=${DEVICE:-cpu}
config=${CONFIG:-release}
swift build -c "$config" --product csm >/dev/null
bin=$(swift build -c "$config" --show-bin-path)/csm
[ -f "$model/model.safetensors" ] || tools/.venv/bin/python tools/bench/generation.py --model "$model" --write \
  --frames 1 --threads "$threads" >/dev/null 2>&1
# The random folder has no tokenizer: the test fixture's Llama-3-layout one (special ids 128000…) speaks for it.
[ -f "$model/tokenizer.json" ] || cp Tests/Fixtures/tokenizer/{tokenizer.json,tokenizer_config.json,special_tokens_map.json} "$model/"
log=$(mktemp)
"$bin" serve --model_id "$model" --port 0 --device "$device" --dtype "$dtype" --threads "$threads" \
  --max_audio_seconds "$audio_seconds" --seed 1 --max_queue 64 2>"$log" &
server=$!
trap 'kill $server 2>/dev/null || true; rm -f "$log"' EXIT
for _ in $(seq 600); do grep -q ' listening on http://' "$log" && break; sleep 0.5; done
url=$(grep -o 'http://[0-9.]*:[0-9]*' "$log" | head -1)
name=$(basename "$model")
echo "== csm serve $model ($config build, $dtype, $device, $threads threads), ${audio_seconds} s of audio per request; load $(uptime | sed 's/.*load average: //')"
# One request first, not counted: the batch's KV caches and libtorch's one-time set-up are paid here.
tools/.venv/bin/python tools/bench/serve_load.py --url "$url" --model "$name" --clients 1 --requests 1 >/dev/null
single=$(tools/.venv/bin/python tools/bench/serve_load.py --url "$url" --model "$name" --clients 1 \
  --requests "$requests" --pid "$server")
echo "1 client:  $single"
many=$(tools/.venv/bin/python tools/bench/serve_load.py --url "$url" --model "$name" --clients "$clients" \
  --requests "$requests" --pid "$server")
echo "$clients clients: $many"
python3 -c "import json,sys; a=json.loads(sys.argv[1]); b=json.loads(sys.argv[2]); \
print(f'total frames/s: 1 client {a[\"frames_per_s\"]}, {b[\"clients\"]} clients {b[\"frames_per_s\"]} ' \
      f'({b[\"frames_per_s\"]/a[\"frames_per_s\"]:.2f}x); frames per server CPU second {a[\"frames_per_cpu_s\"]} vs ' \
      f'{b[\"frames_per_cpu_s\"]}; first audio byte p50 {a[\"first_byte_s\"][\"p50\"]} s vs {b[\"first_byte_s\"][\"p50\"]} s')" \
  "$single" "$many"
kill -INT $server; wait $server
