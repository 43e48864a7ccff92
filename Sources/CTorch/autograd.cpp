// Autograd: backward and gradient access, and the two autograd Functions that must be written in C++
// because their backward pass is code of ours that autograd calls (a C API cannot define a Function):
//
// - LinearWithWeightOnDemand: x Wᵀ where W is rebuilt by a Swift callback in forward and again in backward,
//   so the graph keeps nothing of W in between (NF4 weights, bf16 weights under f32 activations).
// - Checkpoint: activation checkpointing; backward reruns a Swift closure with gradients on.
//
// Both only bridge: what W is and what the closure computes live in Swift.
#include "shim.hpp"

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/core/ivalue.h>
#include <torch/csrc/autograd/autograd.h>
#include <torch/csrc/autograd/custom_function.h>

using namespace ctorch;

extern "C" {

int ct_set_requires_grad(ct_tensor t, int requires_grad) { CT_STATUS(t->t.requires_grad_(requires_grad != 0)) }
int ct_backward(ct_tensor t, ct_tensor gradient, int retain_graph) {
  // The engine asks at::getAccelerator() (so the CUDA hooks) at every backward, even a CPU one.
  note_cuda_hooks_query();
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

}  // extern "C"

namespace {

// A Swift callback and its context, released once with the autograd node that holds it.
template <typename Fn>
struct SwiftCallback : torch::CustomClassHolder {
  Fn fn;
  void *context;
  void (*release)(void *);
  SwiftCallback(Fn f, void *c, void (*r)(void *)) : fn(f), context(c), release(r) {}
  ~SwiftCallback() override { if (release) release(context); }
};

// Takes ownership of a handle a callback returned (NULL after ct_fail: rethrown with its message).
at::Tensor take(ct_tensor out) {
  if (out == nullptr) throw std::runtime_error(last_error);
  at::Tensor t = out->t;
  ct_free(out);
  return t;
}

using WeightSource = SwiftCallback<ct_weight_fn>;

// x Wᵀ in `compute` dtype (x and W cast to it, the result cast back to x's dtype), W = make_weight() in
// forward and again in backward. Why not plain `linear(x, make_weight())`: autograd would keep the
// rebuilt W (an f32 copy of a 4-bit or bf16 weight: 8x or 2x its bytes) from forward until backward.
// Gradient for x only; W is frozen.
struct LinearWithWeightOnDemand : public torch::autograd::Function<LinearWithWeightOnDemand> {
  static at::Tensor forward(torch::autograd::AutogradContext *ctx, const at::Tensor &x,
                            c10::intrusive_ptr<WeightSource> source, int64_t compute) {
    ctx->saved_data["source"] = c10::IValue::make_capsule(source);
    ctx->saved_data["compute"] = compute;
    auto dtype = static_cast<at::ScalarType>(compute);
    at::Tensor w = take(source->fn(source->context)).to(dtype);
    return at::linear(x.to(dtype), w).to(x.scalar_type());
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext *ctx,
                                                 torch::autograd::variable_list grads) {
    auto source = c10::static_intrusive_pointer_cast<WeightSource>(ctx->saved_data["source"].toCapsule());
    auto dtype = static_cast<at::ScalarType>(ctx->saved_data["compute"].toInt());
    at::Tensor w = take(source->fn(source->context)).to(dtype);
    const at::Tensor &g = grads[0];
    return {g.to(dtype).matmul(w).to(g.scalar_type()), at::Tensor(), at::Tensor()};
  }
};

// The Swift closure a checkpoint recomputes; released with the autograd node that holds it.
struct CheckpointBody : SwiftCallback<ct_checkpoint_fn> {
  using SwiftCallback::SwiftCallback;
  // The callee owns (and frees) the input handle.
  at::Tensor operator()(const at::Tensor &x) const { return take(fn(context, wrap(x))); }
  // Every generator the body may draw from, and their states when forward ran it.
  std::vector<at::Generator> generators;
  std::vector<at::Tensor> states;
};

// The generators whose states a checkpoint keeps, as torch.utils.checkpoint's preserve_rng_state: the
// default CPU generator, the default generator of the input's device when that is not the CPU (CUDA,
// MPS: Context::defaultGenerator asks that backend's hooks), and any the caller names (a body that
// draws from its own generator). Forgetting one gives the recomputation other dropout masks than
// forward used, so gradients silently wrong: hence one list, saved and restored as a whole.
std::vector<at::Generator> checkpoint_generators(const at::Tensor &x, const ct_generator *extra, int64_t n) {
  std::vector<at::Generator> gens{at::detail::getDefaultCPUGenerator()};
  if (!x.device().is_cpu()) gens.push_back(at::globalContext().defaultGenerator(x.device()));
  for (int64_t i = 0; i < n; i++) gens.push_back(extra[i]->g);
  std::vector<at::Generator> unique;
  for (auto &g : gens) {
    bool seen = false;
    for (auto &u : unique) seen = seen || u == g;
    if (!seen) unique.push_back(g);
  }
  return unique;
}

std::vector<at::Tensor> rng_states(std::vector<at::Generator> gens) {  // handles: copies share the generator
  std::vector<at::Tensor> states;
  for (auto &g : gens) {
    std::lock_guard<std::mutex> lock(g.mutex());
    states.push_back(g.get_state());
  }
  return states;
}

void set_rng_states(std::vector<at::Generator> gens, const std::vector<at::Tensor> &states) {
  for (size_t i = 0; i < gens.size(); i++) {
    std::lock_guard<std::mutex> lock(gens[i].mutex());
    gens[i].set_state(states[i]);
  }
}

struct Checkpoint : public torch::autograd::Function<Checkpoint> {
  static at::Tensor forward(torch::autograd::AutogradContext *ctx, const at::Tensor &x,
                            c10::intrusive_ptr<CheckpointBody> body) {
    body->states = rng_states(body->generators);
    ctx->saved_data["body"] = c10::IValue::make_capsule(body);
    ctx->save_for_backward({x});
    return (*body)(x);  // grad mode is off inside forward: nothing is recorded
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext *ctx,
                                                 torch::autograd::variable_list grads) {
    auto body = c10::static_intrusive_pointer_cast<CheckpointBody>(ctx->saved_data["body"].toCapsule());
    at::Tensor x = ctx->get_saved_variables()[0].detach().requires_grad_(true);
    // Rerun with forward's generator states, then put back where the generators are now (as torch's
    // fork_rng), so the recomputation draws nothing from the rest of the step's stream.
    std::vector<at::Tensor> now = rng_states(body->generators);
    set_rng_states(body->generators, body->states);
    at::Tensor y;
    {
      at::AutoGradMode enable(true);
      try {
        y = (*body)(x);
      } catch (...) {
        set_rng_states(body->generators, now);
        throw;
      }
    }
    set_rng_states(body->generators, now);
    torch::autograd::backward({y}, {grads[0]});
    return {x.grad(), at::Tensor()};
  }
};

}  // namespace

extern "C" {

ct_tensor ct_linear_weight_on_demand(ct_tensor x, ct_weight_fn make_weight, void *context,
                                     void (*release)(void *context), int compute_dtype) {
  // Owned from here on, so `release` runs exactly once whatever happens below.
  auto source = c10::make_intrusive<WeightSource>(make_weight, context, release);
  CT_TENSOR(LinearWithWeightOnDemand::apply(x->t, source, static_cast<int64_t>(scalar_type(compute_dtype))))
}

ct_tensor ct_checkpoint(ct_tensor x, ct_checkpoint_fn fn, void *context, void (*release)(void *context),
                        const ct_generator *generators, int64_t n_generators) {
  // Owned from here on, so `release` runs exactly once whatever happens below.
  auto body = c10::make_intrusive<CheckpointBody>(fn, context, release);
  CT_GUARD(nullptr, {
    body->generators = checkpoint_generators(x->t, generators, n_generators);
    return wrap(Checkpoint::apply(x->t, body));
  })
}

}  // extern "C"
