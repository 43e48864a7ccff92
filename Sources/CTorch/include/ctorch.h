// ctorch: a thin C API over ATen and autograd, in four parts (one .cpp each): runtime, tensors,
// autograd, distributed.
//
// Conventions:
// - `ct_tensor` is an opaque handle owning one at::Tensor; release it with ct_free.
// - A function returning a handle returns NULL on failure; a function returning int returns 0 on
//   success and -1 on failure. After a failure, ct_last_error() holds the C++ exception's message
//   (thread-local, valid until the next call on that thread).
// - Shapes and dims are int64_t arrays with an explicit count. DTypes and devices use the codes below.
// - `ct_tensor` arguments documented as optional may be NULL.
#ifndef CTORCH_H
#define CTORCH_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ct_tensor_s *ct_tensor;
// A random generator of libtorch's (at::Generator), for draws that must not touch the default one.
typedef struct ct_generator_s *ct_generator;

enum {
  CT_F32 = 0, CT_F16 = 1, CT_BF16 = 2, CT_I64 = 3, CT_I32 = 4, CT_I16 = 5, CT_U8 = 6,
  CT_BOOL = 7, CT_F64 = 8, CT_I8 = 9
};
enum { CT_CPU = 0, CT_CUDA = 1, CT_MPS = 2 };

const char *ct_last_error(void);

// ==== runtime (runtime.cpp) =====================================================================
// Sets this thread's ct_last_error message (for Swift callbacks that fail).
void ct_fail(const char *message);
void ct_manual_seed(uint64_t seed);
int ct_get_num_threads(void);
void ct_set_num_threads(int n);
// The instruction set ATen dispatches its CPU kernels for ("DEFAULT", "AVX2", "AVX512", ...), after
// ATEN_CPU_CAPABILITY. The string stays valid for the life of the process.
const char *ct_cpu_capability(void);
// glibc's malloc mmap and trim thresholds in bytes (mallopt M_MMAP_THRESHOLD / M_TRIM_THRESHOLD): 1 when
// both were set, 0 where the C library is not glibc. Swift's Glibc module does not carry malloc.h.
int ct_set_malloc_thresholds(int mmap_threshold, int trim_threshold);
// Loads libtorch's CUDA backend (the libtorch_cuda.so at `path`, RTLD_GLOBAL). 0 on success.
// ATen creates its CUDA hooks once, at the first question asked of them (ct_manual_seed,
// ct_cuda_device_count, ct_synchronize, ct_backward, any CUDA tensor): asked before this load, CUDA is
// off for the whole process. Swift routes every such entry point through Runtime.prepareBackends().
int ct_load_cuda(const char *path);
// 1 once an entry point of this shim has asked ATen's CUDA hooks anything (the loader records whether
// it came first); ct_forget_cuda_hooks_queries clears that note, for tests only.
int ct_cuda_hooks_queried(void);
void ct_forget_cuda_hooks_queries(void);
int ct_cuda_device_count(void);
// The torch version of the headers this shim was built with ("2.11.0"): the CUDA companion must match it.
const char *ct_torch_version(void);
int ct_mps_is_available(void);
int ct_synchronize(int device_type, int device_index);
int ct_is_grad_enabled(void);
// Sets grad mode for this thread; returns the previous mode.
int ct_set_grad_enabled(int enabled);
// Profiling (libtorch's legacy profiler): every ATen op this thread runs from ct_profile_begin until
// ct_profile_end, which writes them as a Chrome trace (JSON events with name, start, duration) to `path`.
int ct_profile_begin(const char *path);
int ct_profile_end(void);
// A named range in the trace around ops of ours (the optimizer step); NULL-safe, nearly free when no
// profile runs. Each begin is ended exactly once.
void *ct_profile_scope_begin(const char *name);
void ct_profile_scope_end(void *scope);

// ==== tensors (tensor.cpp) ======================================================================
// ---- lifecycle and metadata --------------------------------------------------------------------
void ct_free(ct_tensor t);
int64_t ct_dim(ct_tensor t);
int ct_sizes(ct_tensor t, int64_t *out);  // out holds ct_dim(t) values
int ct_strides(ct_tensor t, int64_t *out);
int ct_dtype(ct_tensor t);
int ct_device(ct_tensor t, int *type, int *index);
int64_t ct_numel(ct_tensor t);
int ct_is_contiguous(ct_tensor t);
int ct_requires_grad(ct_tensor t);
// A new handle to the same tensor (shares storage and autograd identity).
ct_tensor ct_shallow_clone(ct_tensor t);

// ---- creation ----------------------------------------------------------------------------------
// Copies `data` (row-major, `dtype`) into a new CPU tensor.
ct_tensor ct_from_data(const void *data, const int64_t *shape, int64_t ndim, int dtype);
// Wraps external memory without copying; `deleter(ctx)` runs when the tensor storage dies.
ct_tensor ct_from_blob(void *data, const int64_t *shape, int64_t ndim, int dtype,
                       void (*deleter)(void *), void *ctx);
// Copies the tensor (made contiguous, moved to CPU) into `out`, which holds `nbytes`.
int ct_copy_out(ct_tensor t, void *out, int64_t nbytes);
ct_tensor ct_empty(const int64_t *shape, int64_t ndim, int dtype, int dev_type, int dev_index);
ct_tensor ct_full(const int64_t *shape, int64_t ndim, double value, int dtype, int dev_type, int dev_index);
ct_tensor ct_arange(double start, double end, double step, int dtype, int dev_type, int dev_index);
ct_tensor ct_rand(const int64_t *shape, int64_t ndim, int dtype, int dev_type, int dev_index);
ct_tensor ct_randn(const int64_t *shape, int64_t ndim, int dtype, int dev_type, int dev_index);
ct_tensor ct_randint(int64_t low, int64_t high, const int64_t *shape, int64_t ndim, int dtype,
                     int dev_type, int dev_index);
int ct_item(ct_tensor t, double *out);
int ct_item_int(ct_tensor t, int64_t *out);

// ---- conversion --------------------------------------------------------------------------------
ct_tensor ct_to(ct_tensor t, int dtype, int dev_type, int dev_index, int copy);
ct_tensor ct_contiguous(ct_tensor t);
ct_tensor ct_clone(ct_tensor t);
ct_tensor ct_detach(ct_tensor t);

// ---- shape -------------------------------------------------------------------------------------
ct_tensor ct_reshape(ct_tensor t, const int64_t *shape, int64_t ndim);
ct_tensor ct_view(ct_tensor t, const int64_t *shape, int64_t ndim);
ct_tensor ct_permute(ct_tensor t, const int64_t *dims, int64_t ndim);
ct_tensor ct_transpose(ct_tensor t, int64_t d0, int64_t d1);
ct_tensor ct_expand(ct_tensor t, const int64_t *shape, int64_t ndim);
ct_tensor ct_repeat(ct_tensor t, const int64_t *repeats, int64_t ndim);
ct_tensor ct_repeat_interleave(ct_tensor t, int64_t repeats, int64_t dim);
ct_tensor ct_unsqueeze(ct_tensor t, int64_t dim);
ct_tensor ct_squeeze(ct_tensor t, int64_t dim);
ct_tensor ct_flatten(ct_tensor t, int64_t start, int64_t end);
ct_tensor ct_slice(ct_tensor t, int64_t dim, int64_t start, int64_t end, int64_t step);
ct_tensor ct_select(ct_tensor t, int64_t dim, int64_t index);
ct_tensor ct_index_select(ct_tensor t, int64_t dim, ct_tensor index);
// t[idx] along dim 0 with a bool mask or integer index tensor (advanced indexing).
ct_tensor ct_index(ct_tensor t, ct_tensor index);
int ct_index_put_(ct_tensor t, ct_tensor index, ct_tensor values, int accumulate);
ct_tensor ct_masked_select(ct_tensor t, ct_tensor mask);
ct_tensor ct_gather(ct_tensor t, int64_t dim, ct_tensor index);
ct_tensor ct_scatter(ct_tensor t, int64_t dim, ct_tensor index, ct_tensor src);
ct_tensor ct_scatter_add(ct_tensor t, int64_t dim, ct_tensor index, ct_tensor src);
ct_tensor ct_cat(const ct_tensor *ts, int64_t n, int64_t dim);
ct_tensor ct_stack(const ct_tensor *ts, int64_t n, int64_t dim);
// mode: 0 constant, 1 reflect, 2 replicate, 3 circular. pads as torch.nn.functional.pad.
ct_tensor ct_pad(ct_tensor t, const int64_t *pads, int64_t npads, int mode, double value);
ct_tensor ct_flip(ct_tensor t, const int64_t *dims, int64_t ndim);
ct_tensor ct_tril(ct_tensor t, int64_t diagonal);
ct_tensor ct_triu(ct_tensor t, int64_t diagonal);
// torch.stft(..., center, pad_mode as ct_pad, return_complex=True) as real pairs (..., freq, frames, 2);
// window may be null (rectangular).
ct_tensor ct_stft(ct_tensor x, int64_t n_fft, int64_t hop, ct_tensor window, int center, int pad_mode);

// ---- elementwise -------------------------------------------------------------------------------
enum {
  CT_ADD = 0, CT_SUB, CT_MUL, CT_DIV, CT_POW, CT_MAXIMUM, CT_MINIMUM, CT_EQ, CT_NE, CT_LT, CT_LE,
  CT_GT, CT_GE, CT_LOGICAL_AND, CT_LOGICAL_OR, CT_ATAN2, CT_REMAINDER, CT_FLOOR_DIVIDE
};
ct_tensor ct_binary(int op, ct_tensor a, ct_tensor b);
ct_tensor ct_binary_scalar(int op, ct_tensor a, double b);
// b - a, b / a, b ** a
ct_tensor ct_rsub_scalar(ct_tensor a, double b);
ct_tensor ct_rdiv_scalar(ct_tensor a, double b);
ct_tensor ct_rpow_scalar(ct_tensor a, double b);

enum {
  CT_NEG = 0, CT_EXP, CT_LOG, CT_SQRT, CT_RSQRT, CT_ABS, CT_SIN, CT_COS, CT_TANH, CT_SIGMOID,
  CT_RELU, CT_SILU, CT_GELU, CT_GELU_TANH, CT_FLOOR, CT_CEIL, CT_ROUND, CT_SIGN, CT_ISNAN,
  CT_ISFINITE, CT_LOGICAL_NOT, CT_RECIPROCAL, CT_ERF, CT_SQUARE, CT_LOG1P, CT_EXPM1
};
ct_tensor ct_unary(int op, ct_tensor t);
ct_tensor ct_elu(ct_tensor t, double alpha);
ct_tensor ct_clamp(ct_tensor t, double min, double max, int has_min, int has_max);
ct_tensor ct_where(ct_tensor cond, ct_tensor a, ct_tensor b);
ct_tensor ct_masked_fill(ct_tensor t, ct_tensor mask, double value);
ct_tensor ct_lerp(ct_tensor a, ct_tensor b, double weight);

// ---- reductions --------------------------------------------------------------------------------
enum { CT_SUM = 0, CT_MEAN, CT_AMAX, CT_AMIN, CT_PROD, CT_ALL, CT_ANY, CT_LOGSUMEXP, CT_VAR, CT_STD };
// ndims == 0 reduces over all dims.
ct_tensor ct_reduce(int op, ct_tensor t, const int64_t *dims, int64_t ndims, int keepdim);
ct_tensor ct_argmax(ct_tensor t, int64_t dim, int keepdim);
ct_tensor ct_argmin(ct_tensor t, int64_t dim, int keepdim);
ct_tensor ct_cumsum(ct_tensor t, int64_t dim);
// Writes values and indices of the k largest along dim.
int ct_topk(ct_tensor t, int64_t k, int64_t dim, int largest, ct_tensor *values, ct_tensor *indices);
int ct_sort(ct_tensor t, int64_t dim, int descending, ct_tensor *values, ct_tensor *indices);
ct_tensor ct_multinomial(ct_tensor probs, int64_t n, int replacement);
ct_tensor ct_norm(ct_tensor t, double p);

// ---- linear algebra and nn ---------------------------------------------------------------------
ct_tensor ct_matmul(ct_tensor a, ct_tensor b);
ct_tensor ct_linear(ct_tensor x, ct_tensor w, ct_tensor bias /* optional */);
ct_tensor ct_softmax(ct_tensor t, int64_t dim);
ct_tensor ct_log_softmax(ct_tensor t, int64_t dim);
// reduction: 0 none, 1 mean, 2 sum.
ct_tensor ct_cross_entropy(ct_tensor logits, ct_tensor target, int64_t ignore_index, int reduction);
ct_tensor ct_embedding(ct_tensor weight, ct_tensor indices);
ct_tensor ct_conv1d(ct_tensor x, ct_tensor w, ct_tensor bias, int64_t stride, int64_t padding,
                    int64_t dilation, int64_t groups);
ct_tensor ct_conv_transpose1d(ct_tensor x, ct_tensor w, ct_tensor bias, int64_t stride,
                              int64_t padding, int64_t output_padding, int64_t groups,
                              int64_t dilation);
// q,k,v: (batch, heads, seq, head_dim). mask optional (bool: true = attend, or additive float).
// scale <= 0 means 1/sqrt(head_dim). enable_gqa lets k/v have fewer heads than q.
ct_tensor ct_sdpa(ct_tensor q, ct_tensor k, ct_tensor v, ct_tensor mask, double dropout,
                  int is_causal, double scale, int enable_gqa);
ct_tensor ct_rms_norm(ct_tensor x, ct_tensor weight, double eps);
ct_tensor ct_layer_norm(ct_tensor x, ct_tensor weight, ct_tensor bias, double eps);
ct_tensor ct_dropout(ct_tensor x, double p, int train);

// ---- in-place ----------------------------------------------------------------------------------
int ct_copy_(ct_tensor dst, ct_tensor src);
int ct_zero_(ct_tensor t);
int ct_fill_(ct_tensor t, double value);
int ct_add_(ct_tensor t, ct_tensor other, double alpha);
int ct_mul_(ct_tensor t, ct_tensor other);
int ct_mul_scalar_(ct_tensor t, double value);
int ct_add_scalar_(ct_tensor t, double value);
int ct_div_scalar_(ct_tensor t, double value);
int ct_lerp_(ct_tensor t, ct_tensor end, double weight);
int ct_addcmul_(ct_tensor t, ct_tensor a, ct_tensor b, double value);
int ct_addcdiv_(ct_tensor t, ct_tensor a, ct_tensor b, double value);
int ct_uniform_(ct_tensor t, double from, double to);
int ct_normal_(ct_tensor t, double mean, double std);
// Each element 1 with probability p, else 0, drawn from `gen` (optional: NULL is the default generator
// of t's device).
int ct_bernoulli_(ct_tensor t, double p, ct_generator gen);
// A CPU generator of its own (at::make_generator<CPUGeneratorImpl>(seed)); free with ct_generator_free.
ct_generator ct_generator_new(uint64_t seed);
void ct_generator_free(ct_generator g);
int ct_clamp_(ct_tensor t, double min, double max);

// ---- matmul, quantization, memory, optimizer ------------------------------------------------------
// beta·input + alpha·(mat1 @ mat2) in one pass over the output (LoRA's update onto the frozen output).
ct_tensor ct_addmm(ct_tensor input, ct_tensor mat1, ct_tensor mat2, double beta, double alpha);
// torch.bucketize(t, boundaries, out_int32=True, right=right): per element, how many of the sorted
// boundaries lie below it (at or below it with right != 0).
ct_tensor ct_bucketize(ct_tensor t, ct_tensor boundaries, int right);
// Weight-only quantized products (libtorch's packed CPU kernels; the quantization math is in Swift,
// Sources/Torch/Quantization/Int8Linear.swift and Int4Linear.swift).
// x (M, K) @ (w_int8 (N, K) int8)ᵀ · scales (N), x and scales in one float dtype: torch._weight_int8pack_mm.
ct_tensor ct_weight_int8pack_mm(ct_tensor x, ct_tensor w_int8, ct_tensor scales);
// torch._convert_weight_to_int4pack_for_cpu: codes (N, K) int32 in 0…15 → libtorch's packed uint8 (N, K/2).
ct_tensor ct_convert_weight_to_int4pack_for_cpu(ct_tensor codes, int64_t inner_k_tiles);
// torch._weight_int4pack_mm_for_cpu: x (M, K) @ Wᵀ with W[n, k] = (code − 8)·scale + zero, scale and zero
// from scales_and_zeros (K/group_size, N, 2) in x's dtype.
ct_tensor ct_weight_int4pack_mm_for_cpu(ct_tensor x, ct_tensor packed, int64_t group_size,
                                        ct_tensor scales_and_zeros);
// Drops the resident pages of a CPU tensor that borrows external memory (a memory-mapped file) from this
// process (madvise MADV_DONTNEED on the whole pages inside it); a later read maps them in again from
// the file. Fails for tensors that own their memory, whose contents this would destroy.
int ct_release_mapped_pages(ct_tensor t);
// Fused AdamW over n parameters (torch._fused_adamw_ on CPU/CUDA), same math as torch.optim.AdamW.
int ct_fused_adamw_(const ct_tensor *params, const ct_tensor *grads, const ct_tensor *exp_avgs,
                    const ct_tensor *exp_avg_sqs, const ct_tensor *steps, int64_t n, double lr,
                    double beta1, double beta2, double weight_decay, double eps);

// ==== autograd (autograd.cpp) ==================================================================
int ct_set_requires_grad(ct_tensor t, int requires_grad);
// gradient optional (NULL for a scalar loss).
int ct_backward(ct_tensor t, ct_tensor gradient, int retain_graph);
// Writes the .grad handle or NULL when there is none.
int ct_grad(ct_tensor t, ct_tensor *out);
// Drops .grad (as optimizer.zero_grad(set_to_none=True)).
int ct_zero_grad(ct_tensor t);
int ct_set_grad(ct_tensor t, ct_tensor grad /* optional: NULL clears */);
// x Wᵀ where the frozen W is rebuilt by `make_weight(context)` in forward and again in backward, so the
// graph keeps nothing of it in between (an NF4 weight decoded to f32, a bf16 weight widened to f32).
// x and W are cast to `compute_dtype` for the product and the result back to x's dtype. make_weight
// returns a new handle, or NULL after ct_fail(message). Gradient for x only; release(context) runs once
// the graph no longer needs make_weight.
typedef ct_tensor (*ct_weight_fn)(void *context);
ct_tensor ct_linear_weight_on_demand(ct_tensor x, ct_weight_fn make_weight, void *context,
                                     void (*release)(void *context), int compute_dtype);
// Activation checkpointing (torch.utils.checkpoint, reentrant, preserve_rng_state): fn(context, x) runs
// without keeping its activations; backward runs it again with grad enabled and every generator fn may
// draw from as forward found it (so dropout draws the same masks), then backpropagates through the
// recomputed graph, which accumulates the gradients of the parameters fn uses. Those generators: the
// default CPU one, the default one of x's device (CUDA, MPS), and the n `generators` given (optional).
// fn returns a new handle, or NULL after ct_fail(message). release(context) runs once the graph no
// longer needs fn.
typedef ct_tensor (*ct_checkpoint_fn)(void *context, ct_tensor x);
ct_tensor ct_checkpoint(ct_tensor x, ct_checkpoint_fn fn, void *context, void (*release)(void *context),
                        const ct_generator *generators, int64_t n_generators);

// ==== distributed: c10d (distributed.cpp, Sources/Torch/Distributed) ============================
// libtorch's own distributed engine: a TCPStore rendezvous, a ProcessGroup with the Gloo backend,
// and DistributedDataParallel's Reducer (bucketed gradient all-reduce overlapped with backward).
typedef struct ct_store_s *ct_store;
typedef struct ct_group_s *ct_group;
typedef struct ct_reducer_s *ct_reducer;

// The server (is_server != 0, waits for world_size members) or a client of a c10d::TCPStore; a
// client with world_size 0 is an extra connection that does not count as a member.
ct_store ct_tcp_store(const char *host, int port, int is_server, int world_size, int64_t timeout_ms);
// store.add(key, delta): the key's counter after adding (delta 0 reads it).
int ct_store_add(ct_store s, const char *key, int64_t delta, int64_t *out);
void ct_store_free(ct_store s);
// The store as a c10d::Store* (borrowed), for the CUDA companion's ctc_nccl_backend.
void *ct_store_c10d(ct_store s);
// A ProcessGroup of `size` ranks over `s`: CPU collectives on Gloo; CUDA collectives on `cuda_backend`
// (a c10d::Backend* holding one reference, which the group takes over: the CUDA companion's
// ProcessGroupNCCL) or, when it is NULL, on the same Gloo backend.
ct_group ct_group_new(ct_store s, int rank, int size, int64_t timeout_ms, void *cuda_backend);
// In-place sum over all ranks, waited for.
int ct_group_allreduce_sum(ct_group g, ct_tensor t);
// Rank `root`'s values, in place on every rank, waited for.
int ct_group_broadcast(ct_group g, ct_tensor t, int root);
void ct_group_free(ct_group g);
// c10d::Reducer over the n parameters (buckets of at most bucket_cap_bytes): once armed by
// ct_reducer_prepare_for_backward, the next backward averages their gradients over the group.
ct_reducer ct_reducer_new(ct_group g, const ct_tensor *params, int64_t n, int64_t bucket_cap_bytes,
                          int find_unused_parameters);
int ct_reducer_prepare_for_backward(ct_reducer r, const ct_tensor *outputs, int64_t n);
void ct_reducer_free(ct_reducer r);

#ifdef __cplusplus
}
#endif
#endif
