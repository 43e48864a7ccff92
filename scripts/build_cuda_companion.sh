#!/usr/bin/env bash
# Builds the optional CUDA companion, libctorch_cuda.so (tools/cuda/ctorch_cuda.cpp), next to the csm
# binaries (.build/debug, .build/release) or into OUT_DIR. No GPU is needed to build it, only:
#   - a CUDA build of torch, the same version as the libtorch csm links (headers + libtorch_cuda.so,
#     libc10_cuda.so): $TORCH if set, else $LIBTORCH if it has libtorch_cuda.so, else the reference venv's
#     torch (tools/.venv, `make venv`), else the torch of `python3` (a GPU machine's);
#   - the CUDA runtime headers and NCCL's header: the nvidia-cuda-runtime and nvidia-nccl-cu13 wheels
#     installed beside that torch (site-packages/nvidia/{cu13,nccl}), else $CUDA_HOME/include.
# The reference venv is the default because it already holds these pinned wheels (tools/requirements.txt:
# torch==2.11.0, whose libtorch_cpu.so is checked below to be byte-identical to the sha256-pinned one in
# .deps/libtorch); a second download of the 900 MB torch wheel and the NCCL wheel would add nothing.
#
#   scripts/build_cuda_companion.sh            # → .build/{debug,release}/libctorch_cuda.so
#   OUT_DIR=/tmp/x scripts/build_cuda_companion.sh
set -euo pipefail
cd "$(dirname "$0")/.."
say() { printf '[cuda-companion] %s\n' "$*"; }
fail() { say "$*"; exit 1; }

has_cuda_torch() { [ -f "$1/lib/libtorch_cuda.so" ] && [ -f "$1/lib/libc10_cuda.so" ] && [ -d "$1/include/c10/cuda" ]; }
torch=${TORCH:-}
if [ -z "$torch" ] && [ -n "${LIBTORCH:-}" ] && has_cuda_torch "$LIBTORCH"; then torch=$LIBTORCH; fi
if [ -z "$torch" ]; then
  for py in tools/.venv/bin/python python3; do
    candidate=$("$py" -c 'import os, torch; print(os.path.dirname(torch.__file__))' 2>/dev/null) || continue
    if has_cuda_torch "$candidate"; then torch=$candidate; break; fi
  done
fi
[ -n "$torch" ] || fail "no CUDA build of torch found (set TORCH=/path/to/site-packages/torch, or run make venv)"
has_cuda_torch "$torch" || fail "$torch is not a CUDA build of torch (no lib/libtorch_cuda.so or include/c10/cuda)"
torch=$(cd "$torch" && pwd)

# The companion's libtorch must be the one csm runs with: a libc10_cuda of another build would be
# loaded beside the shim's libc10. Checked where both are on this machine.
linked=${LIBTORCH:-.deps/libtorch}
if [ -f "$linked/lib/libtorch_cpu.so" ] && [ "$linked/lib" != "$torch/lib" ] \
   && ! cmp -s "$linked/lib/libtorch_cpu.so" "$torch/lib/libtorch_cpu.so"; then
  fail "$torch is another torch build than the one csm links ($linked): build csm with LIBTORCH=$torch, or point TORCH at $linked's CUDA twin"
fi

site=$(dirname "$torch")
# Header folders: the wheels beside that torch, else a CUDA toolkit (nvcc's). One folder that has all of
# cuda_runtime.h's own includes (crt/, nv/target) is used alone, so the headers are of one CUDA release;
# otherwise every folder that exists, the wheels' first.
nvcc_home=$(command -v nvcc >/dev/null && dirname "$(dirname "$(readlink -f "$(command -v nvcc)")")" || true)
header_dirs=("$site/nvidia/cu13/include" "$site/nvidia/cuda_runtime/include" "${CUDA_HOME:-/usr/local/cuda}/include")
[ -n "$nvcc_home" ] && header_dirs+=("$nvcc_home/include")
cuda_flags=()
for d in "${header_dirs[@]}"; do
  if [ -f "$d/cuda_runtime_api.h" ] && [ -f "$d/crt/host_config.h" ] && [ -e "$d/nv/target" ]; then cuda_flags=(-isystem "$d"); break; fi
done
if [ ${#cuda_flags[@]} = 0 ]; then
  for d in "${header_dirs[@]}"; do [ -d "$d" ] && cuda_flags+=(-isystem "$d"); done
fi
cuda_inc="${cuda_flags[*]}"
[ ${#cuda_flags[@]} -gt 0 ] || fail "no CUDA runtime headers: pip install nvidia-cuda-runtime==13.0.96 nvidia-cuda-crt==13.0.88 nvidia-cuda-cccl==13.0.85 beside $torch (tools/requirements.txt), or set CUDA_HOME"
nccl_inc=""
for d in "$site/nvidia/nccl/include" "${CUDA_HOME:-/usr/local/cuda}/include" /usr/include; do
  [ -f "$d/nccl.h" ] && { nccl_inc=$d; break; }
done
[ -n "$nccl_inc" ] || fail "no nccl.h: pip install nvidia-nccl-cu13 beside $torch"
lib_of() { # soname → its folder (next to the headers' wheel, else the loader's path)
  for d in "$site/nvidia/cu13/lib" "$site/nvidia/cuda_runtime/lib" "$site/nvidia/nccl/lib" \
           "${CUDA_HOME:-/usr/local/cuda}/lib64" ${nvcc_home:+"$nvcc_home/lib64"} /usr/lib/x86_64-linux-gnu; do
    [ -f "$d/$1" ] && { echo "$d"; return 0; }
  done
  return 1
}
cudart_lib=$(lib_of libcudart.so.13) || fail "no libcudart.so.13 (nvidia-cuda-runtime wheel)"
nccl_lib=$(lib_of libnccl.so.2) || fail "no libnccl.so.2 (nvidia-nccl-cu13 wheel)"

out=${OUT_DIR:-.build/cuda}
mkdir -p "$out"
say "torch $torch; CUDA headers $cuda_inc; NCCL $nccl_inc"
start=$(date +%s)
${CXX:-c++} -std=c++20 -O2 -shared -fPIC -D_GLIBCXX_USE_CXX11_ABI=1 -DUSE_C10D_NCCL -DUSE_C10D_GLOO -Wno-deprecated-declarations \
  -isystem "$torch/include" -isystem "$torch/include/torch/csrc/api/include" "${cuda_flags[@]}" -isystem "$nccl_inc" \
  tools/cuda/ctorch_cuda.cpp -o "$out/libctorch_cuda.so" \
  -L"$torch/lib" -ltorch_cuda -lc10_cuda -ltorch_cpu -lc10 -L"$cudart_lib" -l:libcudart.so.13 -L"$nccl_lib" -l:libnccl.so.2 \
  -Wl,--no-undefined -Wl,-rpath,"$torch/lib:$cudart_lib:$nccl_lib"
# Next to the executables, where csm looks for it.
if [ -z "${OUT_DIR:-}" ]; then
  for d in .build/debug .build/release; do [ -d "$d" ] && cp "$out/libctorch_cuda.so" "$d/"; done
fi
say "built $out/libctorch_cuda.so in $(( $(date +%s) - start )) s"
