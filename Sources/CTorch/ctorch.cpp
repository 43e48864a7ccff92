// The C shim over ATen. Every entry point converts arguments, calls one ATen function and
// catches exceptions into a thread-local message. No model logic lives here.
#include "shim.hpp"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <ATen/CPUGeneratorImpl.h>
#include <ATen/detail/CUDAHooksInterface.h>
#include <c10/core/GradMode.h>

#include <dlfcn.h>
#include <optional>
#include <string>
#include <vector>

thread_local std::string ctorch::last_error;

namespace {

using ctorch::last_error;
using ctorch::list;
using ctorch::wrap;

std::optional<at::Tensor> opt(ct_tensor t) {
  if (t == nullptr) return std::nullopt;
  return t->t;
}

at::IntArrayRef dims(const int64_t *p, int64_t n) { return at::IntArrayRef(p, static_cast<size_t>(n)); }

at::ScalarType scalar_type(int code) {
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

int dtype_code(at::ScalarType s) {
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

at::Device device(int type, int index) {
  switch (type) {
    case CT_CPU: return at::Device(at::kCPU);
    case CT_CUDA: return at::Device(at::kCUDA, static_cast<c10::DeviceIndex>(index));
    case CT_MPS: return at::Device(at::kMPS, static_cast<c10::DeviceIndex>(index));
  }
  throw std::invalid_argument("unknown device type " + std::to_string(type));
}

at::TensorOptions options(int dtype, int dev_type, int dev_index) {
  return at::TensorOptions().dtype(scalar_type(dtype)).device(device(dev_type, dev_index));
}

}  // namespace


namespace {
template <typename B>
at::Tensor binary(int op, const at::Tensor &a, const B &b) {
  switch (op) {
    case CT_ADD: return at::add(a, b);
    case CT_SUB: return at::sub(a, b);
    case CT_MUL: return at::mul(a, b);
    case CT_DIV: return at::div(a, b);
    case CT_POW: return at::pow(a, b);
    case CT_EQ: return at::eq(a, b);
    case CT_NE: return at::ne(a, b);
    case CT_LT: return at::lt(a, b);
    case CT_LE: return at::le(a, b);
    case CT_GT: return at::gt(a, b);
    case CT_GE: return at::ge(a, b);
    case CT_REMAINDER: return at::remainder(a, b);
    case CT_FLOOR_DIVIDE: return at::floor_divide(a, b);
  }
  if constexpr (std::is_same_v<B, at::Tensor>) {
    switch (op) {
      case CT_MAXIMUM: return at::maximum(a, b);
      case CT_MINIMUM: return at::minimum(a, b);
      case CT_LOGICAL_AND: return at::logical_and(a, b);
      case CT_LOGICAL_OR: return at::logical_or(a, b);
      case CT_ATAN2: return at::atan2(a, b);
    }
  } else {
    switch (op) {
      case CT_MAXIMUM: return at::clamp_min(a, b);
      case CT_MINIMUM: return at::clamp_max(a, b);
    }
  }
  throw std::invalid_argument("unsupported binary op " + std::to_string(op));
}
}  // namespace

extern "C" {

const char *ct_last_error(void) { return last_error.c_str(); }

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

// ---- lifecycle and metadata --------------------------------------------------------------------
void ct_free(ct_tensor t) { delete t; }
int64_t ct_dim(ct_tensor t) { return t->t.dim(); }
int ct_sizes(ct_tensor t, int64_t *out) {
  for (int64_t i = 0; i < t->t.dim(); i++) out[i] = t->t.size(i);
  return 0;
}
int ct_strides(ct_tensor t, int64_t *out) {
  for (int64_t i = 0; i < t->t.dim(); i++) out[i] = t->t.stride(i);
  return 0;
}
int ct_dtype(ct_tensor t) { CT_GUARD(-1, return dtype_code(t->t.scalar_type());) }
int ct_device(ct_tensor t, int *type, int *index) {
  auto d = t->t.device();
  *index = d.has_index() ? d.index() : 0;
  switch (d.type()) {
    case at::kCPU: *type = CT_CPU; return 0;
    case at::kCUDA: *type = CT_CUDA; return 0;
    case at::kMPS: *type = CT_MPS; return 0;
    default: last_error = "tensor on an unsupported device"; return -1;
  }
}
int64_t ct_numel(ct_tensor t) { return t->t.numel(); }
int ct_is_contiguous(ct_tensor t) { return t->t.is_contiguous() ? 1 : 0; }
int ct_requires_grad(ct_tensor t) { return t->t.requires_grad() ? 1 : 0; }
ct_tensor ct_shallow_clone(ct_tensor t) { return wrap(t->t); }

// ---- creation ----------------------------------------------------------------------------------
ct_tensor ct_from_data(const void *data, const int64_t *shape, int64_t ndim, int dtype) {
  CT_TENSOR(at::from_blob(const_cast<void *>(data), dims(shape, ndim), options(dtype, CT_CPU, 0)).clone())
}
ct_tensor ct_from_blob(void *data, const int64_t *shape, int64_t ndim, int dtype,
                       void (*deleter)(void *), void *ctx) {
  CT_TENSOR(at::from_blob(data, dims(shape, ndim), [deleter, ctx](void *) { if (deleter) deleter(ctx); },
                          options(dtype, CT_CPU, 0)))
}
int ct_copy_out(ct_tensor t, void *out, int64_t nbytes) {
  CT_GUARD(-1, {
    at::Tensor c = t->t.detach().to(at::kCPU).contiguous();
    int64_t need = c.numel() * static_cast<int64_t>(c.element_size());
    if (need != nbytes)
      throw std::invalid_argument("ct_copy_out: buffer has " + std::to_string(nbytes) + " bytes, tensor needs " +
                                  std::to_string(need));
    if (need > 0) std::memcpy(out, c.data_ptr(), static_cast<size_t>(need));
    return 0;
  })
}
ct_tensor ct_empty(const int64_t *shape, int64_t ndim, int dtype, int dev_type, int dev_index) {
  CT_TENSOR(at::empty(dims(shape, ndim), options(dtype, dev_type, dev_index)))
}
ct_tensor ct_full(const int64_t *shape, int64_t ndim, double value, int dtype, int dev_type, int dev_index) {
  CT_TENSOR(at::full(dims(shape, ndim), value, options(dtype, dev_type, dev_index)))
}
ct_tensor ct_arange(double start, double end, double step, int dtype, int dev_type, int dev_index) {
  CT_TENSOR(at::arange(start, end, step, options(dtype, dev_type, dev_index)))
}
ct_tensor ct_rand(const int64_t *shape, int64_t ndim, int dtype, int dev_type, int dev_index) {
  CT_TENSOR(at::rand(dims(shape, ndim), options(dtype, dev_type, dev_index)))
}
ct_tensor ct_randn(const int64_t *shape, int64_t ndim, int dtype, int dev_type, int dev_index) {
  CT_TENSOR(at::randn(dims(shape, ndim), options(dtype, dev_type, dev_index)))
}
ct_tensor ct_randint(int64_t low, int64_t high, const int64_t *shape, int64_t ndim, int dtype,
                     int dev_type, int dev_index) {
  CT_TENSOR(at::randint(low, high, dims(shape, ndim), options(dtype, dev_type, dev_index)))
}
int ct_item(ct_tensor t, double *out) { CT_STATUS(*out = t->t.item<double>()) }
int ct_item_int(ct_tensor t, int64_t *out) { CT_STATUS(*out = t->t.item<int64_t>()) }

// ---- conversion --------------------------------------------------------------------------------
ct_tensor ct_to(ct_tensor t, int dtype, int dev_type, int dev_index, int copy) {
  CT_TENSOR(t->t.to(device(dev_type, dev_index), scalar_type(dtype), /*non_blocking=*/false, copy != 0))
}
ct_tensor ct_contiguous(ct_tensor t) { CT_TENSOR(t->t.contiguous()) }
ct_tensor ct_clone(ct_tensor t) { CT_TENSOR(t->t.clone()) }
ct_tensor ct_detach(ct_tensor t) { CT_TENSOR(t->t.detach()) }

// ---- shape -------------------------------------------------------------------------------------
ct_tensor ct_reshape(ct_tensor t, const int64_t *shape, int64_t ndim) { CT_TENSOR(t->t.reshape(dims(shape, ndim))) }
ct_tensor ct_view(ct_tensor t, const int64_t *shape, int64_t ndim) { CT_TENSOR(t->t.view(dims(shape, ndim))) }
ct_tensor ct_permute(ct_tensor t, const int64_t *d, int64_t ndim) { CT_TENSOR(t->t.permute(dims(d, ndim))) }
ct_tensor ct_transpose(ct_tensor t, int64_t d0, int64_t d1) { CT_TENSOR(t->t.transpose(d0, d1)) }
ct_tensor ct_expand(ct_tensor t, const int64_t *shape, int64_t ndim) { CT_TENSOR(t->t.expand(dims(shape, ndim))) }
ct_tensor ct_repeat(ct_tensor t, const int64_t *r, int64_t ndim) { CT_TENSOR(t->t.repeat(dims(r, ndim))) }
ct_tensor ct_repeat_interleave(ct_tensor t, int64_t repeats, int64_t dim) {
  CT_TENSOR(t->t.repeat_interleave(repeats, dim))
}
ct_tensor ct_unsqueeze(ct_tensor t, int64_t dim) { CT_TENSOR(t->t.unsqueeze(dim)) }
ct_tensor ct_squeeze(ct_tensor t, int64_t dim) { CT_TENSOR(t->t.squeeze(dim)) }
ct_tensor ct_flatten(ct_tensor t, int64_t start, int64_t end) { CT_TENSOR(t->t.flatten(start, end)) }
ct_tensor ct_slice(ct_tensor t, int64_t dim, int64_t start, int64_t end, int64_t step) {
  CT_TENSOR(t->t.slice(dim, start, end, step))
}
ct_tensor ct_select(ct_tensor t, int64_t dim, int64_t index) { CT_TENSOR(t->t.select(dim, index)) }
ct_tensor ct_index_select(ct_tensor t, int64_t dim, ct_tensor index) { CT_TENSOR(t->t.index_select(dim, index->t)) }
ct_tensor ct_index(ct_tensor t, ct_tensor index) {
  CT_TENSOR(t->t.index(c10::List<std::optional<at::Tensor>>({index->t})))
}
int ct_index_put_(ct_tensor t, ct_tensor index, ct_tensor values, int accumulate) {
  CT_STATUS(t->t.index_put_(c10::List<std::optional<at::Tensor>>({index->t}), values->t, accumulate != 0))
}
ct_tensor ct_masked_select(ct_tensor t, ct_tensor mask) { CT_TENSOR(t->t.masked_select(mask->t)) }
ct_tensor ct_gather(ct_tensor t, int64_t dim, ct_tensor index) { CT_TENSOR(t->t.gather(dim, index->t)) }
ct_tensor ct_scatter(ct_tensor t, int64_t dim, ct_tensor index, ct_tensor src) {
  CT_TENSOR(t->t.scatter(dim, index->t, src->t))
}
ct_tensor ct_scatter_add(ct_tensor t, int64_t dim, ct_tensor index, ct_tensor src) {
  CT_TENSOR(t->t.scatter_add(dim, index->t, src->t))
}
ct_tensor ct_cat(const ct_tensor *ts, int64_t n, int64_t dim) { CT_TENSOR(at::cat(list(ts, n), dim)) }
ct_tensor ct_stack(const ct_tensor *ts, int64_t n, int64_t dim) { CT_TENSOR(at::stack(list(ts, n), dim)) }
ct_tensor ct_pad(ct_tensor t, const int64_t *pads, int64_t npads, int mode, double value) {
  CT_GUARD(nullptr, {
    static const char *modes[] = {"constant", "reflect", "replicate", "circular"};
    if (mode < 0 || mode > 3) throw std::invalid_argument("unknown pad mode " + std::to_string(mode));
    std::optional<double> v = mode == 0 ? std::optional<double>(value) : std::nullopt;
    return wrap(at::pad(t->t, dims(pads, npads), modes[mode], v));
  })
}
ct_tensor ct_flip(ct_tensor t, const int64_t *d, int64_t ndim) { CT_TENSOR(t->t.flip(dims(d, ndim))) }
ct_tensor ct_tril(ct_tensor t, int64_t diagonal) { CT_TENSOR(t->t.tril(diagonal)) }
ct_tensor ct_triu(ct_tensor t, int64_t diagonal) { CT_TENSOR(t->t.triu(diagonal)) }

// ---- elementwise -------------------------------------------------------------------------------

ct_tensor ct_binary(int op, ct_tensor a, ct_tensor b) { CT_TENSOR(binary(op, a->t, b->t)) }
ct_tensor ct_binary_scalar(int op, ct_tensor a, double b) { CT_TENSOR(binary(op, a->t, at::Scalar(b))) }
ct_tensor ct_rsub_scalar(ct_tensor a, double b) { CT_TENSOR(at::rsub(a->t, b)) }
// As Python's `b / tensor` (reciprocal, then multiply). Out of place: reciprocal's backward needs its output.
ct_tensor ct_rdiv_scalar(ct_tensor a, double b) { CT_TENSOR(at::reciprocal(a->t).mul(b)) }
ct_tensor ct_rpow_scalar(ct_tensor a, double b) { CT_TENSOR(at::pow(at::Scalar(b), a->t)) }

ct_tensor ct_unary(int op, ct_tensor t) {
  CT_GUARD(nullptr, {
    const at::Tensor &x = t->t;
    switch (op) {
      case CT_NEG: return wrap(at::neg(x));
      case CT_EXP: return wrap(at::exp(x));
      case CT_LOG: return wrap(at::log(x));
      case CT_SQRT: return wrap(at::sqrt(x));
      case CT_RSQRT: return wrap(at::rsqrt(x));
      case CT_ABS: return wrap(at::abs(x));
      case CT_SIN: return wrap(at::sin(x));
      case CT_COS: return wrap(at::cos(x));
      case CT_TANH: return wrap(at::tanh(x));
      case CT_SIGMOID: return wrap(at::sigmoid(x));
      case CT_RELU: return wrap(at::relu(x));
      case CT_SILU: return wrap(at::silu(x));
      case CT_GELU: return wrap(at::gelu(x));
      case CT_GELU_TANH: return wrap(at::gelu(x, "tanh"));
      case CT_FLOOR: return wrap(at::floor(x));
      case CT_CEIL: return wrap(at::ceil(x));
      case CT_ROUND: return wrap(at::round(x));
      case CT_SIGN: return wrap(at::sign(x));
      case CT_ISNAN: return wrap(at::isnan(x));
      case CT_ISFINITE: return wrap(at::isfinite(x));
      case CT_LOGICAL_NOT: return wrap(at::logical_not(x));
      case CT_RECIPROCAL: return wrap(at::reciprocal(x));
      case CT_ERF: return wrap(at::erf(x));
      case CT_SQUARE: return wrap(at::square(x));
      case CT_LOG1P: return wrap(at::log1p(x));
      case CT_EXPM1: return wrap(at::expm1(x));
    }
    throw std::invalid_argument("unsupported unary op " + std::to_string(op));
  })
}
ct_tensor ct_elu(ct_tensor t, double alpha) { CT_TENSOR(at::elu(t->t, alpha)) }
ct_tensor ct_clamp(ct_tensor t, double min, double max, int has_min, int has_max) {
  CT_TENSOR(at::clamp(t->t, has_min ? std::optional<at::Scalar>(min) : std::nullopt,
                      has_max ? std::optional<at::Scalar>(max) : std::nullopt))
}
ct_tensor ct_where(ct_tensor cond, ct_tensor a, ct_tensor b) { CT_TENSOR(at::where(cond->t, a->t, b->t)) }
ct_tensor ct_masked_fill(ct_tensor t, ct_tensor mask, double value) { CT_TENSOR(t->t.masked_fill(mask->t, value)) }
ct_tensor ct_lerp(ct_tensor a, ct_tensor b, double weight) { CT_TENSOR(at::lerp(a->t, b->t, weight)) }

// ---- reductions --------------------------------------------------------------------------------
ct_tensor ct_reduce(int op, ct_tensor t, const int64_t *d, int64_t ndims, int keepdim) {
  CT_GUARD(nullptr, {
    const at::Tensor &x = t->t;
    bool all = ndims == 0;
    at::OptionalIntArrayRef od = all ? at::OptionalIntArrayRef() : at::OptionalIntArrayRef(dims(d, ndims));
    bool k = keepdim != 0;
    switch (op) {
      case CT_SUM: return wrap(at::sum(x, od, k));
      case CT_MEAN: return wrap(at::mean(x, od, k));
      case CT_AMAX: return wrap(at::amax(x, all ? at::IntArrayRef() : dims(d, ndims), k));
      case CT_AMIN: return wrap(at::amin(x, all ? at::IntArrayRef() : dims(d, ndims), k));
      case CT_PROD:
        if (all) return wrap(at::prod(x));
        if (ndims != 1) throw std::invalid_argument("prod reduces one dim at a time");
        return wrap(at::prod(x, d[0], k));
      case CT_ALL: return wrap(all ? at::all(x) : at::all(x, dims(d, ndims), k));
      case CT_ANY: return wrap(all ? at::any(x) : at::any(x, dims(d, ndims), k));
      case CT_LOGSUMEXP: {
        std::vector<int64_t> every;
        for (int64_t i = 0; i < x.dim(); i++) every.push_back(i);
        return wrap(at::logsumexp(x, all ? at::IntArrayRef(every) : dims(d, ndims), k));
      }
      case CT_VAR: return wrap(at::var(x, od, /*correction=*/1, k));
      case CT_STD: return wrap(at::std(x, od, /*correction=*/1, k));
    }
    throw std::invalid_argument("unsupported reduction " + std::to_string(op));
  })
}
ct_tensor ct_argmax(ct_tensor t, int64_t dim, int keepdim) { CT_TENSOR(at::argmax(t->t, dim, keepdim != 0)) }
ct_tensor ct_argmin(ct_tensor t, int64_t dim, int keepdim) { CT_TENSOR(at::argmin(t->t, dim, keepdim != 0)) }
ct_tensor ct_cumsum(ct_tensor t, int64_t dim) { CT_TENSOR(at::cumsum(t->t, dim)) }
int ct_topk(ct_tensor t, int64_t k, int64_t dim, int largest, ct_tensor *values, ct_tensor *indices) {
  CT_GUARD(-1, {
    auto [v, i] = at::topk(t->t, k, dim, largest != 0, /*sorted=*/true);
    *values = wrap(v);
    *indices = wrap(i);
    return 0;
  })
}
int ct_sort(ct_tensor t, int64_t dim, int descending, ct_tensor *values, ct_tensor *indices) {
  CT_GUARD(-1, {
    auto [v, i] = at::sort(t->t, /*stable=*/true, dim, descending != 0);
    *values = wrap(v);
    *indices = wrap(i);
    return 0;
  })
}
ct_tensor ct_multinomial(ct_tensor probs, int64_t n, int replacement) {
  CT_TENSOR(at::multinomial(probs->t, n, replacement != 0))
}
ct_tensor ct_norm(ct_tensor t, double p) { CT_TENSOR(at::norm(t->t, p)) }

// ---- linear algebra and nn ---------------------------------------------------------------------
ct_tensor ct_matmul(ct_tensor a, ct_tensor b) { CT_TENSOR(at::matmul(a->t, b->t)) }
ct_tensor ct_linear(ct_tensor x, ct_tensor w, ct_tensor bias) { CT_TENSOR(at::linear(x->t, w->t, opt(bias))) }
ct_tensor ct_softmax(ct_tensor t, int64_t dim) { CT_TENSOR(at::softmax(t->t, dim)) }
ct_tensor ct_log_softmax(ct_tensor t, int64_t dim) { CT_TENSOR(at::log_softmax(t->t, dim)) }
ct_tensor ct_cross_entropy(ct_tensor logits, ct_tensor target, int64_t ignore_index, int reduction) {
  CT_TENSOR(at::cross_entropy_loss(logits->t, target->t, std::nullopt, reduction, ignore_index))
}
ct_tensor ct_embedding(ct_tensor weight, ct_tensor indices) { CT_TENSOR(at::embedding(weight->t, indices->t)) }
ct_tensor ct_conv1d(ct_tensor x, ct_tensor w, ct_tensor bias, int64_t stride, int64_t padding,
                    int64_t dilation, int64_t groups) {
  CT_TENSOR(at::conv1d(x->t, w->t, opt(bias), stride, padding, dilation, groups))
}
ct_tensor ct_conv_transpose1d(ct_tensor x, ct_tensor w, ct_tensor bias, int64_t stride, int64_t padding,
                              int64_t output_padding, int64_t groups, int64_t dilation) {
  CT_TENSOR(at::conv_transpose1d(x->t, w->t, opt(bias), stride, padding, output_padding, groups, dilation))
}
ct_tensor ct_sdpa(ct_tensor q, ct_tensor k, ct_tensor v, ct_tensor mask, double dropout, int is_causal,
                  double scale, int enable_gqa) {
  CT_TENSOR(at::scaled_dot_product_attention(q->t, k->t, v->t, opt(mask), dropout, is_causal != 0,
                                             scale > 0 ? std::optional<double>(scale) : std::nullopt,
                                             enable_gqa != 0))
}
ct_tensor ct_rms_norm(ct_tensor x, ct_tensor weight, double eps) {
  CT_TENSOR(at::rms_norm(x->t, {x->t.size(-1)}, opt(weight), eps))
}
ct_tensor ct_layer_norm(ct_tensor x, ct_tensor weight, ct_tensor bias, double eps) {
  CT_TENSOR(at::layer_norm(x->t, {x->t.size(-1)}, opt(weight), opt(bias), eps))
}
ct_tensor ct_dropout(ct_tensor x, double p, int train) { CT_TENSOR(at::dropout(x->t, p, train != 0)) }

// ---- in-place ----------------------------------------------------------------------------------
int ct_copy_(ct_tensor dst, ct_tensor src) { CT_STATUS(dst->t.copy_(src->t)) }
int ct_zero_(ct_tensor t) { CT_STATUS(t->t.zero_()) }
int ct_fill_(ct_tensor t, double value) { CT_STATUS(t->t.fill_(value)) }
int ct_add_(ct_tensor t, ct_tensor other, double alpha) { CT_STATUS(t->t.add_(other->t, alpha)) }
int ct_mul_(ct_tensor t, ct_tensor other) { CT_STATUS(t->t.mul_(other->t)) }
int ct_mul_scalar_(ct_tensor t, double value) { CT_STATUS(t->t.mul_(value)) }
int ct_add_scalar_(ct_tensor t, double value) { CT_STATUS(t->t.add_(value)) }
int ct_div_scalar_(ct_tensor t, double value) { CT_STATUS(t->t.div_(value)) }
int ct_lerp_(ct_tensor t, ct_tensor end, double weight) { CT_STATUS(t->t.lerp_(end->t, weight)) }
int ct_addcmul_(ct_tensor t, ct_tensor a, ct_tensor b, double value) { CT_STATUS(t->t.addcmul_(a->t, b->t, value)) }
int ct_addcdiv_(ct_tensor t, ct_tensor a, ct_tensor b, double value) { CT_STATUS(t->t.addcdiv_(a->t, b->t, value)) }
int ct_uniform_(ct_tensor t, double from, double to) { CT_STATUS(t->t.uniform_(from, to)) }
int ct_normal_(ct_tensor t, double mean, double std) { CT_STATUS(t->t.normal_(mean, std)) }
int ct_clamp_(ct_tensor t, double min, double max) { CT_STATUS(t->t.clamp_(min, max)) }

// ---- autograd ----------------------------------------------------------------------------------
int ct_set_requires_grad(ct_tensor t, int requires_grad) { CT_STATUS(t->t.requires_grad_(requires_grad != 0)) }
int ct_backward(ct_tensor t, ct_tensor gradient, int retain_graph) {
  CT_STATUS(t->t.backward(gradient ? gradient->t : at::Tensor(), retain_graph != 0))
}
int ct_grad(ct_tensor t, ct_tensor *out) {
  CT_GUARD(-1, {
    const at::Tensor &g = t->t.grad();
    *out = g.defined() ? wrap(g) : nullptr;
    return 0;
  })
}
int ct_zero_grad(ct_tensor t) { CT_STATUS(t->t.mutable_grad().reset()) }
int ct_set_grad(ct_tensor t, ct_tensor grad) { CT_STATUS(t->t.mutable_grad() = grad ? grad->t : at::Tensor()) }
int ct_fused_adamw_(const ct_tensor *params, const ct_tensor *grads, const ct_tensor *exp_avgs,
                    const ct_tensor *exp_avg_sqs, const ct_tensor *steps, int64_t n, double lr, double beta1,
                    double beta2, double weight_decay, double eps) {
  CT_STATUS(at::_fused_adamw_(list(params, n), list(grads, n), list(exp_avgs, n), list(exp_avg_sqs, n), {},
                              list(steps, n), lr, beta1, beta2, weight_decay, eps, /*amsgrad=*/false,
                              /*maximize=*/false))
}

}  // extern "C"

// ---- nf4 quantization (Sources/Torch/Quantization) ----------------------------------------------
#include <torch/csrc/autograd/custom_function.h>

ct_tensor ct_bucketize(ct_tensor t, ct_tensor boundaries, int right) {
  CT_TENSOR(at::bucketize(t->t, boundaries->t, /*out_int32=*/true, right != 0))
}

namespace {

// The one NF4 decoder, shared by ct_nf4_dequantize and both passes of ct_nf4_linear.
at::Tensor nf4_dequantize(const at::Tensor &packed, const at::Tensor &absmax, const at::Tensor &code,
                          int64_t block_size, at::IntArrayRef shape, at::ScalarType dtype) {
  const int64_t n = c10::multiply_integers(shape);
  TORCH_CHECK(block_size > 0 && packed.numel() == (n + 1) / 2 && absmax.numel() == (n + block_size - 1) / block_size,
              "nf4: ", packed.numel(), " packed bytes and ", absmax.numel(), " absmax values do not describe shape ",
              shape, " in blocks of ", block_size);
  at::Tensor lut = code.to(packed.device(), at::kFloat);
  // Row b holds the two values byte b decodes to: code[b >> 4] (first element), code[b & 15].
  at::Tensor pairs = at::stack({lut.repeat_interleave(16), lut.repeat({16})}, 1);
  at::Tensor values = pairs.index_select(0, packed.reshape(-1).to(at::kInt)).view(-1).narrow(0, 0, n);
  at::Tensor scales = absmax.reshape(-1);
  const int64_t full = n - n % block_size;
  std::vector<at::Tensor> parts;
  if (full > 0)
    parts.push_back((values.narrow(0, 0, full).view({-1, block_size}) * scales.narrow(0, 0, full / block_size).unsqueeze(1))
                        .view(-1));
  if (full < n) parts.push_back(values.narrow(0, full, n - full) * scales.narrow(0, full / block_size, 1));
  at::Tensor flat = parts.size() == 1 ? parts[0] : at::cat(parts);
  return flat.view(shape).to(dtype);
}

// x Wᵀ for an NF4 weight, keeping only the codes for backward (bitsandbytes' MatMul4Bit): the
// dequantized W lives for one matmul in each pass instead of from forward until backward.
struct NF4Linear : public torch::autograd::Function<NF4Linear> {
  static at::Tensor forward(torch::autograd::AutogradContext *ctx, const at::Tensor &x, const at::Tensor &packed,
                            const at::Tensor &absmax, const at::Tensor &code, int64_t block_size,
                            int64_t out_features, int64_t in_features) {
    ctx->save_for_backward({packed, absmax, code});
    ctx->saved_data["block_size"] = block_size;
    ctx->saved_data["out_features"] = out_features;
    ctx->saved_data["in_features"] = in_features;
    at::Tensor w = nf4_dequantize(packed, absmax, code, block_size, {out_features, in_features}, x.scalar_type());
    return at::linear(x, w);
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext *ctx,
                                                 torch::autograd::variable_list grads) {
    at::Tensor grad_x;
    if (ctx->needs_input_grad(0)) {
      auto saved = ctx->get_saved_variables();
      const at::Tensor &g = grads[0];
      at::Tensor w = nf4_dequantize(saved[0], saved[1], saved[2], ctx->saved_data["block_size"].toInt(),
                                    {ctx->saved_data["out_features"].toInt(), ctx->saved_data["in_features"].toInt()},
                                    g.scalar_type());
      grad_x = g.matmul(w);
    }
    return {grad_x, at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor()};
  }
};

}  // namespace

ct_tensor ct_nf4_dequantize(ct_tensor packed, ct_tensor absmax, ct_tensor code, int64_t block_size,
                            const int64_t *shape, int64_t ndim, int dtype) {
  CT_TENSOR(nf4_dequantize(packed->t, absmax->t, code->t, block_size, dims(shape, ndim), scalar_type(dtype)))
}

ct_tensor ct_nf4_linear(ct_tensor x, ct_tensor packed, ct_tensor absmax, ct_tensor code, int64_t block_size,
                        int64_t out_features, int64_t in_features) {
  CT_TENSOR(NF4Linear::apply(x->t, packed->t, absmax->t, code->t, block_size, out_features, in_features))
}

// ---- allocator (torchtest) ----------------------------------------------------------------------
// glibc serves allocations above its mmap threshold with a fresh mmap and trims the heap top above
// its trim threshold; both start low (128 KiB) and only rise as large blocks are freed. In our Swift
// processes they stayed low, so every transient tensor of a few hundred KB was mapped, page-faulted
// and unmapped anew: one plain AdamW step over 100 tensors of 100k floats took 16,300 page faults and
// twice Python torch's time (0 faults there). Pin them once at load, at glibc's own dynamic maximum
// (32 MiB, trim at twice that); bigger tensors are still mapped and returned to the system on free.
// Settings the user made through GLIBC_TUNABLES or MALLOC_*_ win.
#if defined(__GLIBC__)
#include <malloc.h>
#include <cstdlib>
#include <cstring>
namespace {
struct AllocatorTuning {
  AllocatorTuning() {
    const char *tunables = std::getenv("GLIBC_TUNABLES");
    if ((tunables && std::strstr(tunables, "glibc.malloc.")) || std::getenv("MALLOC_MMAP_THRESHOLD_") ||
        std::getenv("MALLOC_TRIM_THRESHOLD_"))
      return;
    mallopt(M_MMAP_THRESHOLD, 32 << 20);
    mallopt(M_TRIM_THRESHOLD, 64 << 20);
  }
} allocator_tuning;
}  // namespace
#endif

// ---- training memory (Sources/Torch/NN/{FrozenLinear,Checkpoint,MappedPages}.swift, Tensor+TrainingMemory.swift) ----
#include <ATen/core/ivalue.h>
#include <torch/csrc/autograd/autograd.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace {

// x Wᵀ with W narrower than x: in W's dtype (native) or with W widened to x's for this product only.
at::Tensor frozen_product(const at::Tensor &x, const at::Tensor &w, bool native) {
  return native ? at::linear(x.to(w.scalar_type()), w).to(x.scalar_type()) : at::linear(x, w.to(x.scalar_type()));
}

// A frozen weight's linear that keeps nothing but the (resident) weight for backward: autograd through
// `linear(x, w.to(f32))` would save the widened copy, twice the weight's bytes, from forward to backward.
struct FrozenLinear : public torch::autograd::Function<FrozenLinear> {
  static at::Tensor forward(torch::autograd::AutogradContext *ctx, const at::Tensor &x, const at::Tensor &w,
                            bool native) {
    ctx->save_for_backward({w});
    ctx->saved_data["native"] = native;
    return frozen_product(x, w, native);
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext *ctx,
                                                 torch::autograd::variable_list grads) {
    at::Tensor w = ctx->get_saved_variables()[0], g = grads[0];
    at::Tensor grad_x = ctx->saved_data["native"].toBool() ? g.to(w.scalar_type()).matmul(w).to(g.scalar_type())
                                                           : g.matmul(w.to(g.scalar_type()));
    return {grad_x, at::Tensor(), at::Tensor()};
  }
};

// The Swift closure a checkpoint recomputes; released with the autograd node that holds it.
struct CheckpointBody : torch::CustomClassHolder {
  ct_checkpoint_fn fn;
  void *context;
  void (*release)(void *);
  CheckpointBody(ct_checkpoint_fn f, void *c, void (*r)(void *)) : fn(f), context(c), release(r) {}
  ~CheckpointBody() override { if (release) release(context); }

  at::Tensor operator()(const at::Tensor &x) const {
    ct_tensor out = fn(context, ctorch::wrap(x));  // the callee owns (and frees) the input handle
    if (out == nullptr) throw std::runtime_error(ctorch::last_error);
    at::Tensor y = out->t;
    ct_free(out);
    return y;
  }
};

struct Checkpoint : public torch::autograd::Function<Checkpoint> {
  static at::Tensor forward(torch::autograd::AutogradContext *ctx, const at::Tensor &x,
                            c10::intrusive_ptr<CheckpointBody> body) {
    ctx->saved_data["rng"] = at::detail::getDefaultCPUGenerator().get_state();
    ctx->saved_data["body"] = c10::IValue::make_capsule(body);
    ctx->save_for_backward({x});
    return (*body)(x);  // grad mode is off inside forward: nothing is recorded
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext *ctx,
                                                 torch::autograd::variable_list grads) {
    auto body = c10::static_intrusive_pointer_cast<CheckpointBody>(ctx->saved_data["body"].toCapsule());
    at::Tensor x = ctx->get_saved_variables()[0].detach().requires_grad_(true);
    auto gen = at::detail::getDefaultCPUGenerator();
    at::Tensor now = gen.get_state();
    gen.set_state(ctx->saved_data["rng"].toTensor());
    at::Tensor y;
    {
      at::AutoGradMode enable(true);
      try {
        y = (*body)(x);
      } catch (...) {
        gen.set_state(now);
        throw;
      }
    }
    gen.set_state(now);
    torch::autograd::backward({y}, {grads[0]});
    return {x.grad(), at::Tensor()};
  }
};

// Tensors of 2 MB and more on transparent huge pages (libtorch's own THP_MEM_ALLOC_ENABLE, read at the
// first allocation): with the kernel's default THP mode `madvise`, each fresh multi-MB activation was
// otherwise faulted in 4 KB at a time, which made an elementwise pass over a (9600, 8192) float tensor
// 3-4× slower than the arithmetic. A value the user set wins.
struct HugePageTensors {
  HugePageTensors() { setenv("THP_MEM_ALLOC_ENABLE", "1", 0); }
} huge_page_tensors;

}  // namespace

extern "C" {

ct_tensor ct_frozen_linear(ct_tensor x, ct_tensor weight, int native) {
  CT_TENSOR(FrozenLinear::apply(x->t, weight->t, native != 0))
}

ct_tensor ct_checkpoint(ct_tensor x, ct_checkpoint_fn fn, void *context, void (*release)(void *context)) {
  // Owned from here on, so `release` runs exactly once whatever happens below.
  auto body = c10::make_intrusive<CheckpointBody>(fn, context, release);
  CT_TENSOR(Checkpoint::apply(x->t, body))
}

void ct_fail(const char *message) { ctorch::last_error = message ? message : "unknown error"; }

int ct_release_mapped_pages(ct_tensor t) {
  CT_STATUS({
    const at::Tensor &x = t->t;
    TORCH_CHECK(x.device().is_cpu(), "ct_release_mapped_pages: not a CPU tensor");
    // Storages libtorch allocated are resizable; only borrowed memory (ct_from_blob) is not.
    TORCH_CHECK(!x.storage().resizable(), "ct_release_mapped_pages: the tensor owns its memory");
    const uintptr_t page = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
    const uintptr_t begin = reinterpret_cast<uintptr_t>(x.storage().data());
    const uintptr_t first = (begin + page - 1) / page * page, last = (begin + x.storage().nbytes()) / page * page;
    if (last > first && madvise(reinterpret_cast<void *>(first), last - first, MADV_DONTNEED) != 0)
      throw std::runtime_error(std::string("madvise: ") + std::strerror(errno));
  })
}

ct_tensor ct_addmm(ct_tensor input, ct_tensor mat1, ct_tensor mat2, double beta, double alpha) {
  CT_TENSOR(at::addmm(input->t, mat1->t, mat2->t, beta, alpha))
}

}  // extern "C"
