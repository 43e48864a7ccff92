// Process-wide libtorch state: seeds, threads, the CPU kernels' instruction set, the CUDA and MPS
// backends, grad mode, and the thread-local error message every entry point reports through.
//
// Nothing here tunes the process (allocator thresholds, huge pages): that is an explicit Swift call,
// `Runtime.tuneForTraining()`, which `csm train` makes at start-up.
#include "shim.hpp"

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Parallel.h>
#include <ATen/Version.h>
#include <ATen/detail/CUDAHooksInterface.h>
#include <c10/core/GradMode.h>

#include <dlfcn.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

thread_local std::string ctorch::last_error;

using ctorch::last_error;

extern "C" {

const char *ct_last_error(void) { return last_error.c_str(); }
void ct_fail(const char *message) { last_error = message ? message : "unknown error"; }

// ---- runtime -----------------------------------------------------------------------------------
void ct_manual_seed(uint64_t seed) {
  auto gen = at::detail::getDefaultCPUGenerator();
  {
    std::lock_guard<std::mutex> lock(gen.mutex());
    gen.set_current_seed(seed);
  }
  if (at::globalContext().hasCUDA()) {
    for (int i = 0; i < at::detail::getCUDAHooks().getNumGPUs(); i++) {
      auto g = at::detail::getCUDAHooks().getDefaultGenerator(static_cast<c10::DeviceIndex>(i));
      std::lock_guard<std::mutex> lock(g.mutex());
      g.set_current_seed(seed);
    }
  }
}
int ct_get_num_threads(void) { return at::get_num_threads(); }
void ct_set_num_threads(int n) { at::set_num_threads(n); }
const char *ct_cpu_capability(void) {
  static const std::string capability = at::get_cpu_capability();
  return capability.c_str();
}
int ct_set_malloc_thresholds(int mmap_threshold, int trim_threshold) {
#if defined(__GLIBC__)
  return mallopt(M_MMAP_THRESHOLD, mmap_threshold) == 1 && mallopt(M_TRIM_THRESHOLD, trim_threshold) == 1;
#else
  return 0;
#endif
}
int ct_load_cuda(const char *libdir) {
  std::string path = std::string(libdir) + "/libtorch_cuda.so";
  if (dlopen(path.c_str(), RTLD_NOW | RTLD_GLOBAL) == nullptr) {
    const char *msg = dlerror();
    last_error = msg ? msg : ("cannot load " + path);
    return -1;
  }
  return 0;
}
int ct_cuda_device_count(void) {
  CT_GUARD(0, return at::globalContext().hasCUDA() ? at::detail::getCUDAHooks().getNumGPUs() : 0;)
}
int ct_mps_is_available(void) { CT_GUARD(0, return at::globalContext().hasMPS() ? 1 : 0;) }
int ct_synchronize(int device_type, int device_index) {
  CT_STATUS(if (device_type == CT_CUDA) at::detail::getCUDAHooks().deviceSynchronize(
                static_cast<c10::DeviceIndex>(device_index)))
}
int ct_is_grad_enabled(void) { return c10::GradMode::is_enabled() ? 1 : 0; }
int ct_set_grad_enabled(int enabled) {
  int prev = c10::GradMode::is_enabled() ? 1 : 0;
  c10::GradMode::set_enabled(enabled != 0);
  return prev;
}

}  // extern "C"
