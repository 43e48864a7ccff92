// libctorch_cuda.so: the CUDA-only figures csm reads that need CUDA headers to reach, which the shim
// (Sources/CTorch, built everywhere against the CPU headers) cannot include. Optional: csm looks for it
// at run time (Runtime.peakMemory(on:) through CUDAMemoryCompanion, Sources/Torch/ProcessMemory.swift)
// and reports GPU memory as unknown, saying why, without it. `make cuda-companion` builds it against
// the CUDA build of torch that csm links (LIBTORCH) and the CUDA runtime headers, next to `csm`.
#include <c10/cuda/CUDACachingAllocator.h>

#include <cstdint>

extern "C" {

// torch.cuda.max_memory_allocated(device): the caching allocator's peak of allocated bytes since the
// start (or the last reset), in bytes; -1 when it cannot be read (no such device, CUDA not initialised).
int64_t ctc_cuda_max_memory_allocated(int device) {
  try {
    auto stats = c10::cuda::CUDACachingAllocator::getDeviceStats(static_cast<c10::DeviceIndex>(device));
    return stats.allocated_bytes[static_cast<size_t>(c10::CachingAllocator::StatType::AGGREGATE)].peak;
  } catch (...) {
    return -1;
  }
}

}  // extern "C"
