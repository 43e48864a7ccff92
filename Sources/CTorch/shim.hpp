// What the shim's translation units share: the tensor handle, the thread-local error message, the
// guard that turns C++ exceptions into it, and the conversions from the C API's codes to ATen's.
// Private to CTorch (not under include/).
//
// The translation units, one concern each:
//   runtime.cpp      seeds, threads, CPU capability, CUDA/MPS discovery, grad mode, errors
//   tensor.cpp       tensor creation, metadata, shape, math, nn functions, in-place updates
//   autograd.cpp     backward and gradients, and the two autograd Functions that must be C++
//   distributed.cpp  c10d: TCPStore, ProcessGroupGloo, DDP's Reducer
#pragma once

#include "ctorch.h"

#include <ATen/ATen.h>

#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

struct ct_tensor_s {
  at::Tensor t;
};

struct ct_generator_s {
  at::Generator g;
};

namespace ctorch {

// The message ct_last_error returns; one per thread.
extern thread_local std::string last_error;

// Notes that an entry point asks ATen's CUDA hooks something (directly, or inside ATen as the autograd
// engine does at every backward): see ct_cuda_hooks_queried. Defined in runtime.cpp.
void note_cuda_hooks_query();

inline ct_tensor wrap(at::Tensor t) { return new ct_tensor_s{std::move(t)}; }

inline std::vector<at::Tensor> list(const ct_tensor *ts, int64_t n) {
  std::vector<at::Tensor> v;
  v.reserve(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; i++) v.push_back(ts[i]->t);
  return v;
}

// ---- C API codes → ATen --------------------------------------------------------------------------
inline std::optional<at::Tensor> opt(ct_tensor t) {
  if (t == nullptr) return std::nullopt;
  return t->t;
}

inline at::IntArrayRef dims(const int64_t *p, int64_t n) { return at::IntArrayRef(p, static_cast<size_t>(n)); }

inline at::ScalarType scalar_type(int code) {
  switch (code) {
    case CT_F32: return at::kFloat;
    case CT_F16: return at::kHalf;
    case CT_BF16: return at::kBFloat16;
    case CT_I64: return at::kLong;
    case CT_I32: return at::kInt;
    case CT_I16: return at::kShort;
    case CT_U8: return at::kByte;
    case CT_BOOL: return at::kBool;
    case CT_F64: return at::kDouble;
    case CT_I8: return at::kChar;
  }
  throw std::invalid_argument("unknown dtype code " + std::to_string(code));
}

inline int dtype_code(at::ScalarType s) {
  switch (s) {
    case at::kFloat: return CT_F32;
    case at::kHalf: return CT_F16;
    case at::kBFloat16: return CT_BF16;
    case at::kLong: return CT_I64;
    case at::kInt: return CT_I32;
    case at::kShort: return CT_I16;
    case at::kByte: return CT_U8;
    case at::kBool: return CT_BOOL;
    case at::kDouble: return CT_F64;
    case at::kChar: return CT_I8;
    default: throw std::invalid_argument(std::string("unsupported dtype ") + c10::toString(s));
  }
}

inline at::Device device(int type, int index) {
  switch (type) {
    case CT_CPU: return at::Device(at::kCPU);
    case CT_CUDA:
      note_cuda_hooks_query();  // a CUDA tensor initialises the CUDA backend through its hooks
      return at::Device(at::kCUDA, static_cast<c10::DeviceIndex>(index));
    case CT_MPS: return at::Device(at::kMPS, static_cast<c10::DeviceIndex>(index));
  }
  throw std::invalid_argument("unknown device type " + std::to_string(type));
}

inline at::TensorOptions options(int dtype, int dev_type, int dev_index) {
  return at::TensorOptions().dtype(scalar_type(dtype)).device(device(dev_type, dev_index));
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
