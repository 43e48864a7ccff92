// Tensors: creation, metadata, conversion, shape, elementwise math, reductions, nn functions and
// in-place updates. Each entry point converts its arguments, calls one ATen function and reports
// exceptions through ct_last_error.
#include "shim.hpp"

#include <ATen/CPUGeneratorImpl.h>

#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

using namespace ctorch;

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

// ---- signal ------------------------------------------------------------------------------------

// torch.stft(x, n_fft, hop, window=window, center, pad_mode, return_complex=True), viewed as real pairs
// (..., n_fft / 2 + 1, frames, 2): Swift has no complex dtype, and the callers want |X|² anyway.
ct_tensor ct_stft(ct_tensor x, int64_t n_fft, int64_t hop, ct_tensor window, int center, int pad_mode) {
  CT_GUARD(nullptr, {
    static const char *modes[] = {"constant", "reflect", "replicate", "circular"};
    if (pad_mode < 0 || pad_mode > 3) throw std::invalid_argument("unknown pad mode " + std::to_string(pad_mode));
    auto w = window ? std::optional<at::Tensor>(window->t) : std::nullopt;
    auto spectrum = at::stft(x->t, n_fft, hop, std::nullopt, w, center != 0, modes[pad_mode], false, true, true);
    return wrap(at::view_as_real(spectrum));
  })
}

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
int ct_bernoulli_(ct_tensor t, double p, ct_generator gen) {
  CT_STATUS(t->t.bernoulli_(p, gen ? std::optional<at::Generator>(gen->g) : std::nullopt))
}

ct_generator ct_generator_new(uint64_t seed) {
  CT_GUARD(nullptr, return new ct_generator_s{at::make_generator<at::CPUGeneratorImpl>(seed)};)
}
void ct_generator_free(ct_generator g) { delete g; }
int ct_clamp_(ct_tensor t, double min, double max) { CT_STATUS(t->t.clamp_(min, max)) }
ct_tensor ct_addmm(ct_tensor input, ct_tensor mat1, ct_tensor mat2, double beta, double alpha) {
  CT_TENSOR(at::addmm(input->t, mat1->t, mat2->t, beta, alpha))
}

// ---- quantization and memory (Sources/Torch/Quantization, Sources/Torch/NN/MappedPages.swift) ---------
ct_tensor ct_bucketize(ct_tensor t, ct_tensor boundaries, int right) {
  CT_TENSOR(at::bucketize(t->t, boundaries->t, /*out_int32=*/true, right != 0))
}
ct_tensor ct_weight_int8pack_mm(ct_tensor x, ct_tensor w_int8, ct_tensor scales) {
  CT_TENSOR(at::_weight_int8pack_mm(x->t, w_int8->t, scales->t))
}
ct_tensor ct_convert_weight_to_int4pack_for_cpu(ct_tensor codes, int64_t inner_k_tiles) {
  CT_TENSOR(at::_convert_weight_to_int4pack_for_cpu(codes->t, inner_k_tiles))
}
ct_tensor ct_weight_int4pack_mm_for_cpu(ct_tensor x, ct_tensor packed, int64_t group_size,
                                        ct_tensor scales_and_zeros) {
  CT_TENSOR(at::_weight_int4pack_mm_for_cpu(x->t, packed->t, group_size, scales_and_zeros->t))
}
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

// ---- optimizer ---------------------------------------------------------------------------------
int ct_fused_adamw_(const ct_tensor *params, const ct_tensor *grads, const ct_tensor *exp_avgs,
                    const ct_tensor *exp_avg_sqs, const ct_tensor *steps, int64_t n, double lr, double beta1,
                    double beta2, double weight_decay, double eps) {
  CT_STATUS(at::_fused_adamw_(list(params, n), list(grads, n), list(exp_avgs, n), list(exp_avg_sqs, n), {},
                              list(steps, n), lr, beta1, beta2, weight_decay, eps, /*amsgrad=*/false,
                              /*maximize=*/false))
}

}  // extern "C"
