#!/usr/bin/env bash
# Prepares what a borrowed GPU machine (no Swift toolchain, no network, the working tree copied there, 64 MiB
# at most) needs to run scripts/gpu_check.sh: `csm` and `csm-bench` built in release mode with the Swift
# runtime and Foundation linked in (--static-swift-stdlib), stripped, with the shared libraries they need
# that such a machine may lack (libsndfile and its codecs, libsoxr) beside them in lib/, and the CUDA
# companion built here (gpu_check.sh rebuilds it there against that machine's torch when it can). libtorch is
# not carried: the GPU machine's torch (same version, CUDA build) is used through LD_LIBRARY_PATH.
#
#   scripts/build_for_device.sh      # → .build/device/csm-device.tar.xz, and prints the paths to carry
set -euo pipefail
cd "$(dirname "$0")/.."
say() { printf '[build_for_device] %s\n' "$*"; }
LIMIT=$((64 * 1024 * 1024))

# Static Foundation's networking part links -lcurl; without a -dev package there is only libcurl.so.4, so a
# libcurl.so link to it is made in a folder of our own for the linker.
curl=$(ldconfig -p | awk '/libcurl\.so\.4 .*x86-64/ {print $NF; exit}')
[ -n "$curl" ] || { say "no libcurl.so.4 (apt-get install libcurl4)"; exit 1; }
mkdir -p .build/device-link
ln -sf "$curl" .build/device-link/libcurl.so
STATIC=(-c release --static-swift-stdlib -Xlinker -L"$PWD/.build/device-link")
swift build "${STATIC[@]}" --product csm
swift build "${STATIC[@]}" --product csm-bench
dest=.build/device
rm -rf "$dest"
mkdir -p "$dest/bin/lib"
for tool in csm csm-bench; do
  cp .build/release/$tool "$dest/bin/"
  strip "$dest/bin/$tool"
done
# Shared libraries outside libtorch and the C/C++ runtime: those a minimal GPU image may not have.
ldd "$dest/bin/csm" | awk '/=> \// {print $1, $3}' | while read -r name path; do
  case "$name" in
    libtorch*|libc10*|libgomp*|libcudart*|libcupti*) ;;  # the GPU machine's torch brings these
    # glibc's own libraries and the C++ runtime must be the machine's: a copy of another version breaks them
    libc.so*|libm.so*|libstdc++*|libgcc_s*|ld-linux*|libpthread*|libdl.so*|librt.so*|libresolv*|libutil*|libnsl*|libanl*|libcrypt.so*) ;;
    *) cp -L "$path" "$dest/bin/lib/" ;;
  esac
done
if scripts/build_cuda_companion.sh >/dev/null 2>&1 && [ -f .build/cuda/libctorch_cuda.so ]; then
  cp .build/cuda/libctorch_cuda.so "$dest/bin/"
fi
tar -cJf "$dest/csm-device.tar.xz" -C "$dest" bin
archive=$(stat -c %s "$dest/csm-device.tar.xz")
# The working tree travels too: tracked files and untracked ones git does not ignore.
tree=$(git ls-files -z --cached --others --exclude-standard | xargs -0 stat -c %s 2>/dev/null | awk '{s += $1} END {print s + 0}')
total=$((archive + tree))
say "binaries: $(du -sh "$dest/bin" | cut -f1) unpacked, $((archive / 1024 / 1024)) MiB packed; working tree $((tree / 1024 / 1024)) MiB; total $((total / 1024 / 1024)) MiB of 64"
[ "$total" -le "$LIMIT" ] || { say "over 64 MiB: the device cannot take it"; exit 1; }
say "carry: .build/device/csm-device.tar.xz   (gpu_check.sh unpacks it)"
echo ".build/device/csm-device.tar.xz"
