// libctorch_cuda.so: the bridges to CUDA-only parts of libtorch that need CUDA, NCCL or c10_cuda headers,
// which the shim (Sources/CTorch, built everywhere against the CPU-only libtorch) cannot include:
//   - the CUDA caching allocator's current/peak allocated and reserved bytes, and the reset of the peaks
//     (torch.cuda.memory_allocated / max_memory_allocated / memory_reserved / reset_peak_memory_stats);
//   - c10d's ProcessGroupNCCL, handed to the shim's ct_group_new as the CUDA backend of a process group.
// Optional: csm loads it with dlopen only for `--device cuda` (Sources/Torch/CUDA/CUDACompanion.swift), and
// says "unknown" / uses Gloo, with the reason, without it. Nothing here decides anything. Built by
// scripts/build_cuda_companion.sh (`make cuda-companion`, `make setup CUDA=1`) against a CUDA build of the
// same torch the shim links, the CUDA runtime headers and NCCL's headers (their PyPI wheels).
//
// Every entry point catches C++ exceptions and leaves the message for ctc_last_error(), as the shim does.
#include <c10/cuda/CUDACachingAllocator.h>
#include <cuda_runtime_api.h>
#include <nccl.h>
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#include <torch/headeronly/version.h>

#include <chrono>
#include <cstdint>
#include <exception>
#include <string>

namespace {
thread_local std::string last_error;

// The allocator keeps one slot per device, made when CUDA is first initialised; reading a slot that
// does not exist is undefined, so every reader checks the index against the runtime's count first.
bool valid_device(int device) {
  int count = 0;
  if (cudaGetDeviceCount(&count) != cudaSuccess || device < 0 || device >= count) {
    cudaGetLastError();  // clear the sticky error for the next caller
    last_error = "no CUDA device " + std::to_string(device);
    return false;
  }
  return true;
}
}  // namespace

extern "C" {

const char *ctc_last_error(void) { return last_error.c_str(); }

// The torch these headers belong to ("2.11.0"); csm compares it with the shim's before using anything.
const char *ctc_torch_version(void) { return TORCH_VERSION; }

// NCCL's version as ncclGetVersion gives it (22809 = 2.28.9), or -1.
int ctc_nccl_version(void) {
  int version = 0;
  return ncclGetVersion(&version) == ncclSuccess ? version : -1;
}

// Devices the CUDA runtime sees; 0 when there are none or no driver (the reason in ctc_last_error).
// Asks the runtime directly, not ATen, so it is safe whatever state ATen's CUDA hooks are in.
int ctc_cuda_device_count(void) {
  int count = 0;
  cudaError_t status = cudaGetDeviceCount(&count);
  if (status != cudaSuccess) {
    last_error = std::string(cudaGetErrorName(status)) + ": " + cudaGetErrorString(status);
    cudaGetLastError();
    return 0;
  }
  return count;
}

// out[0..3]: allocated bytes now, peak allocated, reserved bytes now, peak reserved (the caching
// allocator's aggregate pool, as torch.cuda.memory_stats()). 0, or -1 with ctc_last_error.
int ctc_cuda_memory(int device, int64_t *out) {
  try {
    if (!valid_device(device)) return -1;
    auto stats = c10::cuda::CUDACachingAllocator::getDeviceStats(static_cast<c10::DeviceIndex>(device));
    const auto all = static_cast<size_t>(c10::CachingAllocator::StatType::AGGREGATE);
    out[0] = stats.allocated_bytes[all].current;
    out[1] = stats.allocated_bytes[all].peak;
    out[2] = stats.reserved_bytes[all].current;
    out[3] = stats.reserved_bytes[all].peak;
    return 0;
  } catch (const std::exception &e) {
    last_error = e.what();
    return -1;
  }
}

// torch.cuda.reset_peak_memory_stats(device): the peaks restart from the current values.
int ctc_cuda_reset_peak_memory(int device) {
  try {
    if (!valid_device(device)) return -1;
    c10::cuda::CUDACachingAllocator::resetPeakStats(static_cast<c10::DeviceIndex>(device));
    return 0;
  } catch (const std::exception &e) {
    last_error = e.what();
    return -1;
  }
}

// A ProcessGroupNCCL over the shim's store (a c10d::Store*, from ct_store_c10d), as a c10d::Backend* that
// holds one reference for the caller: ct_group_new takes it over. Its keys live under "nccl/" in the
// store, as torch.distributed prefixes each backend's, so they never meet Gloo's. nullptr on failure.
void *ctc_nccl_backend(void *store, int rank, int size, int64_t timeout_ms) {
  try {
    auto shared = c10::intrusive_ptr<c10d::Store>::reclaim_copy(static_cast<c10d::Store *>(store));
    auto prefixed = c10::make_intrusive<c10d::PrefixStore>("nccl/", shared);
    auto options = c10d::ProcessGroupNCCL::Options::create();
    options->timeout = std::chrono::milliseconds(timeout_ms);
    auto nccl = c10::make_intrusive<c10d::ProcessGroupNCCL>(prefixed, rank, size, options);
    // What torch.distributed does for a new NCCL group: sequence numbers agreed over the store.
    nccl->setSequenceNumberForGroup();
    c10::intrusive_ptr<c10d::Backend> backend = nccl;
    return backend.release();
  } catch (const std::exception &e) {
    last_error = e.what();
    return nullptr;
  }
}

}  // extern "C"
