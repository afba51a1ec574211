// reducer: PyTorch-DDP gradient synchronisation for a LibTorch module (C++ has no DDP module).
// Rank 0's parameters and buffers are broadcast at construction; in a synced backward each bucket
// of gradients is averaged by an asynchronous allreduce launched as soon as the bucket is complete,
// and all of them are waited before backward() returns, leaving the averages in .grad.
#pragma once
#include <torch/csrc/autograd/engine.h>
#include <torch/csrc/autograd/function_hook.h>
#include <torch/csrc/autograd/variable.h>
#include <torch/torch.h>

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <numeric>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "trellis/core/ddp/broadcast.hpp"
#include "trellis/core/ddp/buckets.hpp"
#include "trellis/core/ddp/process_group.hpp"

namespace trellis::core::ddp {

struct reducer_options {
  bucket_caps caps{};
  bool broadcast_buffers =
      true;  ///< rank 0's buffers (BatchNorm statistics) before each synced forward
  /// Off: a parameter that got no gradient on some rank counts as zero there, and after the step
  /// every parameter has the averaged .grad (zeros when no rank used it). On: one more small
  /// allreduce per step finds parameters no rank used and leaves their .grad alone, as torch
  /// DDP's find_unused_parameters does. Either way no rank waits for a missing gradient.
  bool find_unused_parameters = false;
};

class reducer {
 public:
  /// Captures the module's parameters that require grad, and its buffers: construct it after
  /// moving the module to its device and freezing what stays frozen. Every rank gets rank 0's
  /// parameters and buffers.
  reducer(const torch::nn::Module& module, std::shared_ptr<process_group> group,
          reducer_options options = {})
      : group_(std::move(group)), options_(options), buffers_(module.buffers()) {
    std::vector<at::Tensor> state = module.parameters();
    for (const auto& p : state)
      if (p.requires_grad()) params_.push_back(p);
    state.insert(state.end(), buffers_.begin(), buffers_.end());
    broadcast_coalesced(*group_, state, 0, "initial parameter broadcast");
    if (group_->size() > 1) build_buckets(), register_hooks();
  }
  ~reducer() {
    for (std::size_t i = 0; i < accumulators_.size(); ++i)
      accumulators_[i]->del_post_hook(hook_keys_[i]);
  }
  reducer(const reducer&) = delete;
  reducer& operator=(const reducer&) = delete;

  /// Call before each forward: in a synced training step it gives every rank rank 0's buffers.
  void before_forward() {
    if (group_->size() == 1 || !sync_ || !torch::GradMode::is_enabled()) return;
    {
      std::lock_guard lock(mutex_);
      expect_backward_ = true;
    }
    if (options_.broadcast_buffers) broadcast_coalesced(*group_, buffers_, 0, "buffer broadcast");
  }

  /// before_forward() then module->forward(args...), for a ModuleHolder or shared_ptr.
  template <class Module, class... Args>
  decltype(auto) forward(Module& module, Args&&... args) {
    before_forward();
    return module->forward(std::forward<Args>(args)...);
  }

  /// While alive, backward only accumulates into .grad locally; the next synced backward averages
  /// the accumulated gradients (torch DDP's no_sync). Sync is decided when backward runs.
  class no_sync_guard {
   public:
    explicit no_sync_guard(reducer& r) : owner_(&r), previous_(r.sync_.exchange(false)) {}
    no_sync_guard(no_sync_guard&& other) noexcept
        : owner_(std::exchange(other.owner_, nullptr)), previous_(other.previous_) {}
    no_sync_guard(const no_sync_guard&) = delete;
    no_sync_guard& operator=(const no_sync_guard&) = delete;
    no_sync_guard& operator=(no_sync_guard&&) = delete;
    ~no_sync_guard() {
      if (owner_) owner_->sync_ = previous_;
    }

   private:
    reducer* owner_;
    bool previous_;
  };
  [[nodiscard]] no_sync_guard no_sync() { return no_sync_guard(*this); }
  bool sync_enabled() const { return sync_; }

  /// Waits for every bucket; afterwards each parameter's .grad is the average over ranks, held
  /// as a view into its bucket (like torch DDP's gradient_as_bucket_view: no copy in or out).
  /// Runs by itself when a synced backward ends; call it before optimizer.step() anyway (then a
  /// no-op) so that a rank whose backward reached no parameter still joins the step's collectives.
  void finalize() {
    torch::NoGradGuard no_grad;
    std::lock_guard lock(mutex_);
    if (!step_active_) {
      if (!expect_backward_ || !sync_) return;  // inside no_sync() nothing is due
      begin_step(false);
    }
    // Parameters this backward did not reach: their .grad so far (no_sync micro-batches) or zeros.
    for (std::size_t i = 0; i < params_.size(); ++i)
      if (!ready_[i]) mark_ready(i);
    std::optional<at::Tensor> used;
    c10::intrusive_ptr<c10d::Work> used_work;
    if (options_.find_unused_parameters) {
      used = torch::tensor(local_used_).to(group_->device());
      used_work = group_->allreduce_sum(*used);
    }
    try {
      for (std::size_t b = 0; b < buckets_.size(); ++b)
        group_->wait(buckets_[b].work, "gradient allreduce (bucket " + std::to_string(b + 1) +
                                           " of " + std::to_string(buckets_.size()) + ")");
      if (used) group_->wait(used_work, "unused-parameter allreduce");
    } catch (...) {
      end_step();
      throw;
    }
    const auto global_used = used ? std::optional<at::Tensor>(used->to(torch::kCPU)) : std::nullopt;
    for (std::size_t i = 0; i < params_.size(); ++i) {
      if (global_used && global_used->data_ptr<float>()[i] == 0.0f) continue;
      if (!grad_is_bucket_view(i)) params_[i].mutable_grad() = views_[i];
    }
    end_step();
  }

  std::size_t bucket_count() const { return buckets_.size(); }
  /// Whether the buckets are reduced through shared memory (every rank on one host) or by c10d.
  bool shares_host_memory() const {
    return !buckets_.empty() && group_->shares_host_memory(buckets_.front().flat);
  }
  const process_group& group() const { return *group_; }

 private:
  struct bucket {
    at::Tensor flat;  ///< the bucket's gradients back to back, divided by the world size
    std::size_t size = 0;
    std::size_t pending = 0;
    c10::intrusive_ptr<c10d::Work> work;
  };

  /// Runs after the parameter's gradient accumulator, i.e. once .grad holds this backward's sum.
  struct grad_ready_hook final : torch::autograd::FunctionPostHook {
    grad_ready_hook(reducer* owner, std::size_t index) : owner(owner), index(index) {}
    torch::autograd::variable_list operator()(
        const torch::autograd::variable_list& outputs,
        const torch::autograd::variable_list& /*inputs*/) override {
      owner->on_grad_ready(index);
      return outputs;
    }
    reducer* owner;
    std::size_t index;
  };

  void build_buckets() {
    torch::NoGradGuard no_grad;
    const auto layout = assign_buckets(params_, options_.caps);
    std::vector<std::int64_t> sizes;
    for (const auto& bucket : layout) {
      std::int64_t numel = 0;
      for (auto i : bucket) numel += params_[i].numel();
      sizes.push_back(numel);
    }
    // float32 gradients on the group's device share one buffer from the group: on one host it is
    // shared memory, reduced without sockets. Other dtypes get a tensor per bucket.
    const bool float_on_group_device =
        std::all_of(params_.begin(), params_.end(), [&](const at::Tensor& p) {
          return p.scalar_type() == torch::kFloat && p.device() == group_->device();
        });
    const auto all =
        float_on_group_device
            ? group_->gradient_buffer(std::accumulate(sizes.begin(), sizes.end(), std::int64_t{0}))
            : at::Tensor();
    views_.resize(params_.size());
    bucket_of_.resize(params_.size());
    std::int64_t start = 0;
    for (std::size_t b = 0; b < layout.size(); ++b) {
      const auto& head = params_[layout[b].front()];
      auto flat = all.defined() ? all.narrow(0, start, sizes[b])
                                : torch::zeros({sizes[b]}, head.options().requires_grad(false));
      start += sizes[b];
      std::int64_t offset = flat.storage_offset();
      for (auto i : layout[b]) {
        // Shares the bucket's storage without being an autograd view, so optimizers may
        // detach_() and zero_() it, and AccumulateGrad adds into it in place.
        views_[i] =
            torch::empty({0}, flat.options()).set_(flat.storage(), offset, params_[i].sizes());
        bucket_of_[i] = b;
        offset += params_[i].numel();
      }
      buckets_.push_back({flat, layout[b].size(), 0, {}});
    }
    ready_.assign(params_.size(), false);
    local_used_.assign(params_.size(), 0.0f);
  }

  void register_hooks() {
    // The accumulator is held weakly by the parameter: keeping it here keeps the hook in place.
    for (std::size_t i = 0; i < params_.size(); ++i) {
      accumulators_.push_back(torch::autograd::impl::grad_accumulator(params_[i]));
      hook_keys_.push_back(
          accumulators_.back()->add_post_hook(std::make_unique<grad_ready_hook>(this, i)));
    }
  }

  void on_grad_ready(std::size_t i) {
    torch::NoGradGuard no_grad;
    std::lock_guard lock(mutex_);
    local_used_[i] = 1.0f;  // also in no_sync backward: the sum the next sync averages includes it
    if (!sync_) return;
    if (!step_active_) begin_step(true);
    if (ready_[i])
      throw std::logic_error("[trellis] ddp: parameter " + std::to_string(i) +
                             " got two gradients in one synced step; run one synced backward per "
                             "optimizer step and accumulate micro-batches under no_sync()");
    mark_ready(i);
  }

  void begin_step(bool from_backward) {
    for (auto& b : buckets_) b.pending = b.size;
    next_launch_ = 0;
    step_active_ = true;
    // Runs on this thread when backward has finished, before backward() returns.
    if (from_backward)
      torch::autograd::Engine::get_default_engine().queue_callback([this] { finalize(); });
  }

  void end_step() {
    step_active_ = false;
    expect_backward_ = false;
    ready_.assign(ready_.size(), false);
    local_used_.assign(local_used_.size(), 0.0f);
    for (auto& b : buckets_) b.work.reset();
  }

  bool grad_is_bucket_view(std::size_t i) const {
    const auto& grad = params_[i].grad();
    return grad.defined() && grad.data_ptr() == views_[i].data_ptr() &&
           grad.sizes() == views_[i].sizes();
  }

  /// The gradient is in its bucket slot: already, when .grad is the bucket view (every step after
  /// the first while optimizers zero rather than reset .grad), else copied (zeros when undefined).
  void mark_ready(std::size_t i) {
    ready_[i] = true;
    if (!grad_is_bucket_view(i)) {
      const auto& grad = params_[i].grad();
      if (grad.defined())
        views_[i].copy_(grad);
      else
        views_[i].zero_();
    }
    if (--buckets_[bucket_of_[i]].pending == 0) launch_ready();
  }

  /// Launches complete buckets strictly in bucket order, so every rank issues the same sequence of
  /// collectives whatever order its gradients arrive in.
  void launch_ready() {
    while (next_launch_ < buckets_.size() && buckets_[next_launch_].pending == 0) {
      auto& b = buckets_[next_launch_++];
      b.work = group_->allreduce_average(b.flat);
    }
  }

  std::shared_ptr<process_group> group_;
  reducer_options options_;
  std::vector<at::Tensor> params_;  ///< the ones that require grad, in module order
  std::vector<at::Tensor> buffers_;
  std::vector<bucket> buckets_;
  std::vector<at::Tensor> views_;  ///< per parameter: its slot in a bucket, shaped like it
  std::vector<std::size_t> bucket_of_;
  std::vector<std::shared_ptr<torch::autograd::Node>> accumulators_;
  std::vector<std::uintptr_t> hook_keys_;

  std::mutex mutex_;  ///< hooks run on autograd threads
  std::atomic<bool> sync_{true};
  bool step_active_ = false;      ///< a synced backward has started filling buckets
  bool expect_backward_ = false;  ///< a synced forward ran; finalize() must join the step
  std::vector<bool> ready_;
  std::size_t next_launch_ = 0;  ///< buckets before it are launched
  std::vector<float>
      local_used_;  ///< per parameter: 1 when a backward reached it since the last sync
};

}  // namespace trellis::core::ddp
