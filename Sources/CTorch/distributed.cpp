// The shim over c10d, libtorch's distributed engine: TCPStore rendezvous, a ProcessGroup backed by
// Gloo (and by NCCL for CUDA tensors, a backend the CUDA companion makes), and the Reducer that DistributedDataParallel uses. Nothing here decides anything; the
// training loop (Sources/Training/Distributed) does.
//
// ProcessGroupGloo.hpp needs gloo's headers to compile (Debian's libgloo-dev); only declarations
// are used from them — every gloo symbol lives in libtorch_cpu, which bundles its own gloo.
#include "shim.hpp"

#include <torch/csrc/autograd/variable.h>
#include <torch/csrc/distributed/c10d/ProcessGroup.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#include <torch/csrc/distributed/c10d/reducer.hpp>

#include <algorithm>
#include <chrono>
#include <memory>

struct ct_store_s {
  c10::intrusive_ptr<c10d::Store> store;
};
struct ct_group_s {
  c10::intrusive_ptr<c10d::ProcessGroup> group;
};
struct ct_reducer_s {
  std::shared_ptr<c10d::Reducer> reducer;
};

using ctorch::list;

extern "C" {

ct_store ct_tcp_store(const char *host, int port, int is_server, int world_size, int64_t timeout_ms) {
  CT_GUARD(nullptr, {
    c10d::TCPStoreOptions options;
    options.port = static_cast<std::uint16_t>(port);
    options.isServer = is_server != 0;
    // A client that passes world_size 0 joins without counting as a member (a second connection).
    if (world_size > 0) options.numWorkers = static_cast<size_t>(world_size);
    options.timeout = std::chrono::milliseconds(timeout_ms);
    return new ct_store_s{c10::make_intrusive<c10d::TCPStore>(host, options)};
  })
}

int ct_store_add(ct_store s, const char *key, int64_t delta, int64_t *out) {
  CT_STATUS(*out = s->store->add(key, delta))
}

void ct_store_free(ct_store s) { delete s; }

void *ct_store_c10d(ct_store s) { return s->store.get(); }

ct_group ct_group_new(ct_store s, int rank, int size, int64_t timeout_ms, void *cuda_backend) {
  // Taken over first, so a failure below still releases it.
  c10::intrusive_ptr<c10d::Backend> cuda;
  if (cuda_backend) cuda = c10::intrusive_ptr<c10d::Backend>::reclaim(static_cast<c10d::Backend *>(cuda_backend));
  CT_GUARD(nullptr, {
    auto options = c10d::ProcessGroupGloo::Options::create_default(std::chrono::milliseconds(timeout_ms));
    auto gloo = c10::make_intrusive<c10d::ProcessGroupGloo>(s->store, rank, size, options);
    // What torch.distributed.init_process_group builds: "gloo" (Gloo for CPU and CUDA tensors) or
    // "cpu:gloo,cuda:nccl" (NCCL for CUDA tensors; the small CPU sums of the loop stay on Gloo).
    auto group = c10::make_intrusive<c10d::ProcessGroup>(s->store, rank, size);
    using Type = c10d::ProcessGroup::BackendType;
    group->setDefaultBackend(Type::GLOO);
    group->setBackend(c10::DeviceType::CPU, Type::GLOO, gloo);
    if (cuda)
      group->setBackend(c10::DeviceType::CUDA, Type::NCCL, cuda);
    else
      group->setBackend(c10::DeviceType::CUDA, Type::GLOO, gloo);
    return new ct_group_s{group};
  })
}

// (c10d's tensor lists hold one tensor per device, hence the one-element vectors.)
int ct_group_allreduce_sum(ct_group g, ct_tensor t) {
  CT_STATUS({
    std::vector<at::Tensor> tensors{t->t};
    g->group->allreduce(tensors)->wait();
  })
}

int ct_group_broadcast(ct_group g, ct_tensor t, int root) {
  CT_STATUS({
    std::vector<at::Tensor> tensors{t->t};
    c10d::BroadcastOptions options;
    options.rootRank = root;
    g->group->broadcast(tensors, options)->wait();
  })
}

void ct_group_free(ct_group g) { delete g; }

ct_reducer ct_reducer_new(ct_group g, const ct_tensor *params, int64_t n, int64_t bucket_cap_bytes,
                          int find_unused_parameters) {
  CT_GUARD(nullptr, {
    auto tensors = list(params, n);
    std::vector<bool> sparse(tensors.size(), false);
    // As DistributedDataParallel does: buckets of at most bucket_cap_bytes after a 1 MB first one,
    // assigned in parameter (forward) order and handed over reversed, because backward makes the
    // last parameters' gradients first.
    auto [buckets, limits] = c10d::compute_bucket_assignment_by_size(
        tensors, {static_cast<size_t>(c10d::kDefaultFirstBucketBytes), static_cast<size_t>(bucket_cap_bytes)},
        sparse);
    std::reverse(buckets.begin(), buckets.end());
    auto reducer = std::make_shared<c10d::Reducer>(
        tensors, buckets, g->group, sparse, bucket_cap_bytes, find_unused_parameters != 0,
        /*gradient_as_bucket_view=*/false, std::unordered_map<size_t, std::string>{},
        c10d::kDefaultFirstBucketBytes, /*skip_all_reduce_unused_params=*/false,
        /*use_python_reducer=*/false, /*bucket_bytes_cap_list=*/std::vector<int64_t>{});
    return new ct_reducer_s{reducer};
  })
}

namespace {
// Drops warnings. The Reducer warns once, naming "the DDP constructor", when find_unused_parameters
// found nothing unused; that is our usual case (the flag is there for ranks whose batch has no
// depth-decoder frames), so the warning would only confuse.
struct SilentWarnings : c10::WarningHandler {
  void process(const c10::Warning &) override {}
};
}  // namespace

int ct_reducer_prepare_for_backward(ct_reducer r, const ct_tensor *outputs, int64_t n) {
  CT_STATUS({
    static SilentWarnings silent;
    c10::WarningUtils::WarningHandlerGuard guard(&silent);
    r->reducer->prepare_for_backward(list(outputs, n));
  })
}

void ct_reducer_free(ct_reducer r) { delete r; }

}  // extern "C"
