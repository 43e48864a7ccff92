// What the shim's translation units share: the tensor handle, the thread-local error message and
// the guard that turns C++ exceptions into it. Private to CTorch (not under include/).
#pragma once

#include "ctorch.h"

#include <ATen/ATen.h>

#include <string>
#include <vector>

struct ct_tensor_s {
  at::Tensor t;
};

namespace ctorch {

// The message ct_last_error returns; one per thread.
extern thread_local std::string last_error;

inline ct_tensor wrap(at::Tensor t) { return new ct_tensor_s{std::move(t)}; }

inline std::vector<at::Tensor> list(const ct_tensor *ts, int64_t n) {
  std::vector<at::Tensor> v;
  v.reserve(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; i++) v.push_back(ts[i]->t);
  return v;
}

}  // namespace ctorch

// Runs `body`, turning any C++ exception into `fail` plus a message for ct_last_error.
#define CT_GUARD(fail, ...)                                    \
  try {                                                        \
    __VA_ARGS__                                                \
  } catch (const c10::Error &e) {                              \
    ctorch::last_error = e.what_without_backtrace();           \
    return fail;                                               \
  } catch (const std::exception &e) {                          \
    ctorch::last_error = e.what();                             \
    return fail;                                               \
  } catch (...) {                                              \
    ctorch::last_error = "unknown C++ exception";              \
    return fail;                                               \
  }
#define CT_TENSOR(...) CT_GUARD(nullptr, return ctorch::wrap(__VA_ARGS__);)
#define CT_STATUS(...) CT_GUARD(-1, __VA_ARGS__; return 0;)
