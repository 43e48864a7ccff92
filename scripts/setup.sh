#!/usr/bin/env bash
# Installs what csm-swift needs to build and run: Debian packages (audio I/O, espeak-ng for the demo
# data) and libtorch, unpacked from a pinned torch wheel on PyPI. Idempotent: seconds when done.
#
#   scripts/setup.sh            # fetch into .deps/libtorch
#   scripts/setup.sh --test     # also what the tests need (headless Chromium for the report screenshot)
#   LIBTORCH=/path/to/torch scripts/setup.sh   # use an existing torch (e.g. a CUDA build)
# `make setup CUDA=1` then builds the optional CUDA companion (scripts/build_cuda_companion.sh) from the
# reference venv's pinned wheels (tools/requirements.txt): the venv's torch 2.11.0 is the same wheel as the
# one pinned here (its libtorch_cpu.so is compared byte for byte), so it is not downloaded a second time.
set -euo pipefail
cd "$(dirname "$0")/.."

# --- pinned versions ------------------------------------------------------------------------------
# torch 2.11.0 is a CUDA 13 build; its libtorch_cpu.so needs libcudart/libcupti even on a CPU, so
# we take those two from their own pinned wheels. Same binary then runs against a CUDA libtorch.
TORCH_WHEEL=torch-2.11.0-cp311-cp311-manylinux_2_28_x86_64.whl
TORCH_SPEC=torch==2.11.0
TORCH_SHA=7aa2f9bbc6d4595ba72138026b2074be1233186150e9292865e04b7a63b8c67a
CUDART_WHEEL=nvidia_cuda_runtime-13.0.96-py3-none-manylinux2014_x86_64.manylinux_2_17_x86_64.whl
CUDART_SPEC=nvidia-cuda-runtime==13.0.96
CUDART_SHA=7f82250d7782aa23b6cfe765ecc7db554bd3c2870c43f3d1821f1d18aebf0548
CUPTI_WHEEL=nvidia_cuda_cupti-13.0.85-py3-none-manylinux_2_25_x86_64.whl
CUPTI_SPEC=nvidia-cuda-cupti==13.0.85
CUPTI_SHA=4eb01c08e859bf924d222250d2e8f8b8ff6d3db4721288cf35d14252a4d933c8
DEB_PACKAGES="libsndfile1-dev libsoxr-dev libgloo-dev espeak-ng sox"
[ "${1:-}" = "--test" ] && DEB_PACKAGES="$DEB_PACKAGES chromium"

DEPS=.deps
DEST=$DEPS/libtorch
STAMP=$DEST/.installed
WANT="$TORCH_SHA $CUDART_SHA $CUPTI_SHA"

say() { printf '[setup] %s\n' "$*"; }

# --- Debian packages ------------------------------------------------------------------------------
missing=()
for p in $DEB_PACKAGES; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    say "installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    say "missing Debian packages; run: sudo apt-get install -y ${missing[*]}"
    exit 1
  fi
fi

# --- libtorch -------------------------------------------------------------------------------------
if [ -n "${LIBTORCH:-}" ]; then
  for f in include/ATen/ATen.h lib/libtorch_cpu.so lib/libc10.so; do
    [ -e "$LIBTORCH/$f" ] || { say "LIBTORCH=$LIBTORCH has no $f (point it at a torch/ folder)"; exit 1; }
  done
  say "using LIBTORCH=$LIBTORCH"
  exit 0
fi
if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$WANT" ]; then
  exit 0
fi

mkdir -p "$DEPS/wheels"
fetch() { # wheel-file spec sha [extra pip args]
  local file=$1 spec=$2 sha=$3; shift 3
  if [ ! -f "$DEPS/wheels/$file" ] || ! echo "$sha  $DEPS/wheels/$file" | sha256sum -c --quiet - 2>/dev/null; then
    say "downloading $spec"
    rm -f "$DEPS/wheels/$file"
    # --no-index --find-links would skip local wheel folders; we want PyPI's exact file.
    python3 -m pip download --no-deps --only-binary=:all: --no-cache-dir -q "$@" -d "$DEPS/wheels" "$spec"
  fi
  echo "$sha  $DEPS/wheels/$file" | sha256sum -c --quiet - || { say "hash mismatch for $file"; exit 1; }
}
PLAT="--platform manylinux_2_28_x86_64 --platform manylinux_2_25_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 --python-version 3.11"
fetch "$TORCH_WHEEL" "$TORCH_SPEC" "$TORCH_SHA" $PLAT --implementation cp --abi cp311
fetch "$CUDART_WHEEL" "$CUDART_SPEC" "$CUDART_SHA" $PLAT
fetch "$CUPTI_WHEEL" "$CUPTI_SPEC" "$CUPTI_SHA" $PLAT

say "unpacking libtorch into $DEST"
tmp=$(mktemp -d "$DEPS/unpack.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
python3 - "$DEPS/wheels" "$tmp" "$TORCH_WHEEL" "$CUDART_WHEEL" "$CUPTI_WHEEL" <<'PY'
import sys, zipfile, os, shutil
wheels, out, torch_whl, *cuda = sys.argv[1:]
keep_libs = {"libtorch_cpu.so", "libc10.so", "libgomp.so.1"}
with zipfile.ZipFile(os.path.join(wheels, torch_whl)) as z:
    for n in z.namelist():
        if n.startswith("torch/include/") or (n.startswith("torch/lib/") and os.path.basename(n) in keep_libs):
            z.extract(n, out)
for w in cuda:  # libcudart.so.13, libcupti.so.13 next to libtorch_cpu.so ($ORIGIN is in its rpath)
    with zipfile.ZipFile(os.path.join(wheels, w)) as z:
        for n in z.namelist():
            if os.path.basename(n) in ("libcudart.so.13", "libcupti.so.13"):
                with z.open(n) as src, open(os.path.join(out, "torch/lib", os.path.basename(n)), "wb") as dst:
                    shutil.copyfileobj(src, dst)
PY
rm -rf "$DEST"
mv "$tmp/torch" "$DEST"
echo "$WANT" > "$STAMP"
say "libtorch ready ($(du -sh "$DEST" | cut -f1))"
