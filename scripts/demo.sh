#!/usr/bin/env bash
# The end-to-end demo behind `make demo`: a generated dialogue dataset and a tiny random CSM
# (Tests/Fixtures/demo-model, the real Hugging Face layout at toy size) through every subcommand:
#
#   espeak-ng dataset → csm preprocess → csm train (LoRA) → csm generate → csm merge
#
# Everything lands in demo-output/ (git-ignored), replaced on each run. The model is random, so the
# audio is noise: the demo shows the pipeline and its outputs, not voice quality.
#
# Environment: CSM (the binary, default .build/release/csm), DEMO_OUTPUT (default demo-output),
# DEMO_STEPS (default 40), DEVICE (default cpu).
set -euo pipefail
cd "$(dirname "$0")/.."

CSM=${CSM:-.build/release/csm}
OUT=${DEMO_OUTPUT:-demo-output}
MODEL=Tests/Fixtures/demo-model
STEPS=${DEMO_STEPS:-40}
DEVICE=${DEVICE:-cpu}

start=$SECONDS
fail() { echo "[demo] error: $*" >&2; exit 1; }
step() { printf '\n[demo] ── %s ── (%d s in)\n' "$*" $((SECONDS - start)); }
trap 'echo "[demo] failed at line $LINENO (exit $?); the outputs so far are in $OUT/" >&2' ERR

[ -x "$CSM" ] || fail "$CSM not found: run 'make demo' (it builds it) or 'make release'"
[ -f "$MODEL/model.safetensors" ] || fail "$MODEL is missing: it is committed; regenerate with 'make fixtures'"
command -v espeak-ng >/dev/null || fail "espeak-ng is missing: run 'make setup' (or apt-get install espeak-ng)"

rm -rf "$OUT"
mkdir -p "$OUT"

step "1/5 dataset: en + de dialogues spoken by espeak-ng (two voices, one broken conversation)"
scripts/make_demo_data.sh "$OUT"

step "2/5 csm preprocess: scripts + wavs → tokens and Mimi codes"
"$CSM" preprocess --input_path "$OUT/dataset" --output_path "$OUT/preprocessed" --model_id "$MODEL" \
  --num_context_turns 2

step "3/5 csm train: LoRA, $STEPS steps, a checkpoint and a sample every 20"
"$CSM" train --preprocessed_path "$OUT/preprocessed" --output_dir "$OUT/train" --model_id "$MODEL" \
  --max_steps "$STEPS" --batch_size 2 --gradient_accumulation_steps 2 --learning_rate 2e-3 --warmup_steps 4 \
  --lora_r 8 --lora_alpha 16 --save_every 20 --gen_every 20 --gen_from "$OUT/example_gen" \
  --val_fraction 0.1 --val_every 10 --device "$DEVICE"

step "4/5 csm generate: the last line of example_gen, with its first lines as context, through the adapter"
"$CSM" generate --model_id "$MODEL" --adapter "$OUT/train" --context "$OUT/example_gen" \
  --output "$OUT/generated.wav" --max_audio_seconds 5 --seed 42 --device "$DEVICE"

step "5/5 csm merge: base + adapter → one Hugging Face model folder"
"$CSM" merge --model_id "$MODEL" --adapter "$OUT/train" --output "$OUT/merged"
"$CSM" generate --model_id "$OUT/merged" --text "Guten Tag, das ist das zusammengeführte Modell." --speaker 0 \
  --output "$OUT/generated_merged.wav" --max_audio_seconds 3 --seed 42 --device "$DEVICE"

trap - ERR
for f in train/report.html train/adapter_model.safetensors generated.wav merged/model.safetensors; do
  [ -s "$OUT/$f" ] || fail "$OUT/$f was not written"
done
list() { (cd "$OUT/train" && shopt -s nullglob && set -- $1 && echo "$*"); }  # files matching a pattern

cat <<EOF

[demo] done in $((SECONDS - start)) s. Outputs:
  $OUT/dataset/             the generated raw dataset (seed layout; _meta/ and a broken conversation included)
  $OUT/example_gen/         the --gen_from folder: context turns + the line to speak
  $OUT/preprocessed/        csm preprocess: manifest.json, report.json (every skip and why), shards/
  $OUT/train/               csm train:
      report.html                 the training report: loss curves, lr, throughput, dataset, audio players
      adapter_model.safetensors   the LoRA adapter, PEFT format (+ adapter_config.json)
      $(list 'checkpoint-*') resumable checkpoints (--resume)
      $(list 'gen_step_*.wav') samples generated during training
      metrics.jsonl, runs/        per-step metrics; TensorBoard events
  $OUT/generated.wav        csm generate: adapter + --context
  $OUT/merged/              csm merge: one Hugging Face CSM folder (base + LoRA)
  $OUT/generated_merged.wav csm generate from the merged folder

Open the report in a browser: $OUT/train/report.html (one self-contained file)
EOF
