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
#include <ATen/record_function.h>
#include <c10/core/GradMode.h>
#include <torch/headeronly/version.h>
#include <torch/csrc/autograd/profiler_legacy.h>

#include <atomic>
#include <dlfcn.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

thread_local std::string ctorch::last_error;

using ctorch::last_error;

namespace {
// ATen creates its CUDA hooks once, at the first question asked of them; asked before libtorch_cuda.so
// is loaded, they are the CPU-only stub for the rest of the process. Every entry point here that asks
// goes through cuda_hooks()/has_cuda(), which note it, so the loader can tell whether it came first.
std::atomic<bool> cuda_hooks_queried{false};

const at::CUDAHooksInterface &cuda_hooks() {
  cuda_hooks_queried = true;
  return at::detail::getCUDAHooks();
}
bool has_cuda() {
  cuda_hooks_queried = true;
  return at::globalContext().hasCUDA();
}
}  // namespace

void ctorch::note_cuda_hooks_query() { cuda_hooks_queried = true; }

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
  if (has_cuda()) {
    for (int i = 0; i < cuda_hooks().getNumGPUs(); i++) {
      auto g = cuda_hooks().getDefaultGenerator(static_cast<c10::DeviceIndex>(i));
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
int ct_load_cuda(const char *path) {
  if (dlopen(path, RTLD_NOW | RTLD_GLOBAL) == nullptr) {
    const char *msg = dlerror();
    last_error = msg ? msg : (std::string("cannot load ") + path);
    return -1;
  }
  return 0;
}
int ct_cuda_hooks_queried(void) { return cuda_hooks_queried ? 1 : 0; }
void ct_forget_cuda_hooks_queries(void) { cuda_hooks_queried = false; }
int ct_cuda_device_count(void) { CT_GUARD(0, return has_cuda() ? cuda_hooks().getNumGPUs() : 0;) }
const char *ct_torch_version(void) { return TORCH_VERSION; }
int ct_mps_is_available(void) { CT_GUARD(0, return at::globalContext().hasMPS() ? 1 : 0;) }
int ct_synchronize(int device_type, int device_index) {
  CT_STATUS(if (device_type == CT_CUDA) cuda_hooks().deviceSynchronize(
                static_cast<c10::DeviceIndex>(device_index)))
}
int ct_is_grad_enabled(void) { return c10::GradMode::is_enabled() ? 1 : 0; }
int ct_set_grad_enabled(int enabled) {
  int prev = c10::GradMode::is_enabled() ? 1 : 0;
  c10::GradMode::set_enabled(enabled != 0);
  return prev;
}

namespace {
std::unique_ptr<torch::autograd::profiler::RecordProfile> profile;  // the one running, if any
}
int ct_profile_begin(const char *path) {
  CT_STATUS(profile = std::make_unique<torch::autograd::profiler::RecordProfile>(std::string(path)))
}
int ct_profile_end(void) { CT_STATUS(profile.reset()) }  // the destructor writes the trace
void *ct_profile_scope_begin(const char *name) {
  auto *scope = new at::RecordFunction(at::RecordScope::USER_SCOPE);
  if (scope->isActive()) scope->before(name);
  return scope;
}
void ct_profile_scope_end(void *scope) { delete static_cast<at::RecordFunction *>(scope); }

}  // extern "C"
