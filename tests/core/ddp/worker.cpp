// ddp_worker: one rank of the DDP tests, configured by --key=value arguments. With
// --reference-ranks=N it is instead the one-process reference that trains on the data of N ranks
// at once. Writes final parameters and buffers as raw float32 to --out; exits 3 when a collective
// fails (the fault tests look for that). --mode=bench times synced vs no_sync steps.
#include <torch/torch.h>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <iostream>
#include <map>
#include <string>

#include "test_models.hpp"
#include "trellis/core/ddp/process_group.hpp"
#include "trellis/core/ddp/rank_env.hpp"
#include "trellis/core/ddp/reducer.hpp"

namespace ddp = trellis::core::ddp;
namespace tests = trellis::tests::ddp;
using clock_type = std::chrono::steady_clock;

namespace {

struct args {
  std::map<std::string, std::string> values;
  args(int argc, char** argv) {
    for (int i = 1; i < argc; ++i) {
      const std::string a = argv[i];
      const auto eq = a.find('=');
      if (!a.starts_with("--") || eq == std::string::npos)
        throw std::invalid_argument("expected --key=value: " + a);
      values[a.substr(2, eq - 2)] = a.substr(eq + 1);
    }
  }
  std::string text(const std::string& key, const std::string& fallback) const {
    auto it = values.find(key);
    return it == values.end() ? fallback : it->second;
  }
  long number(const std::string& key, long fallback) const {
    return std::stol(text(key, std::to_string(fallback)));
  }
};

double ms_since(clock_type::time_point start) {
  return std::chrono::duration<double, std::milli>(clock_type::now() - start).count();
}

/// Step s's global batch; rank r's slice is rows [r*b, (r+1)*b).
std::pair<at::Tensor, at::Tensor> global_batch(const tests::net& model, long step, long rows,
                                               torch::Dtype type) {
  torch::manual_seed(1000 + step);
  std::vector<std::int64_t> shape{rows};
  for (auto d : model.input_shape()) shape.push_back(d);
  auto x = torch::randn(shape).to(type);
  return {x, torch::randint(0, 10, {rows})};
}

at::Tensor cross_entropy(const at::Tensor& logits, const at::Tensor& labels) {
  return torch::nn::functional::cross_entropy(logits, labels);
}

/// Rank r runs the optional branch of the partly-used model in steps where r == step % world.
bool uses_aux(long rank, long step, long world) { return rank == step % world; }

void dump(const torch::nn::Module& model, const std::string& path) {
  std::ofstream out(path, std::ios::binary);
  auto write = [&](const at::Tensor& t) {
    auto f = t.detach().to(torch::kFloat).contiguous();
    out.write(reinterpret_cast<const char*>(f.data_ptr<float>()),
              static_cast<std::streamsize>(f.numel() * 4));
  };
  for (const auto& p : model.parameters()) write(p);
  for (const auto& b : model.buffers()) write(b);
}

/// --float64=1 runs model and data in double precision.
torch::Dtype dtype(const args& a) {
  return a.number("float64", 0) != 0 ? torch::kFloat64 : torch::kFloat32;
}

std::shared_ptr<tests::net> make_model(const args& a, long seed) {
  torch::manual_seed(seed);
  auto model = tests::make_model(a.text("model", "mlp"), a.number("image-side", 32));
  model->to(dtype(a));
  return model;
}

ddp::reducer_options reducer_options(const args& a) {
  ddp::reducer_options opts;
  opts.caps.first_bytes = static_cast<std::size_t>(a.number("first-bucket", 1 << 20));
  opts.caps.bytes = static_cast<std::size_t>(a.number("bucket", 25 << 20));
  opts.find_unused_parameters = a.number("find-unused", 0) != 0;
  return opts;
}

torch::optim::SGD make_optimizer(tests::net& model, const args& a) {
  const double lr = std::stod(a.text("lr", "0.05"));
  return torch::optim::SGD(model.parameters(), torch::optim::SGDOptions(lr).momentum(0.9));
}

void maybe_fault(const args& a, long rank, long step) {
  if (a.number("fault-rank", -1) != rank || a.number("fault-step", -1) != step) return;
  const auto kind = a.text("fault", "");
  std::cout << "fault: " << kind << " at step " << step << std::endl;
  if (kind == "sigkill") std::raise(SIGKILL);
  if (kind == "sigstop") std::raise(SIGSTOP);
  if (kind == "exit") std::_Exit(7);
}

/// The reference's backward for models whose ranks differ from rows of one batch (BatchNorm,
/// rank-dependent branches): the gradient of the mean over slices of each slice's loss, one slice
/// at a time. Buffers follow DDP: every slice starts from the same (rank 0's) buffers, and rank
/// 0's update is the one that survives the next broadcast.
void slicewise_backward(tests::net& model, const at::Tensor& x, const at::Tensor& y, long step,
                        long world) {
  const long b = x.size(0) / world;
  auto buffers = model.buffers();
  auto restore = [&](const std::vector<at::Tensor>& values) {
    torch::NoGradGuard no_grad;
    for (std::size_t i = 0; i < buffers.size(); ++i) buffers[i].copy_(values[i]);
  };
  std::vector<at::Tensor> start, after_rank0;
  for (const auto& t : buffers) start.push_back(t.clone());
  for (long r = 0; r < world; ++r) {
    restore(start);
    auto logits = model.forward(x.narrow(0, r * b, b), uses_aux(r, step, world));
    (cross_entropy(logits, y.narrow(0, r * b, b)) / static_cast<double>(world)).backward();
    if (r == 0)
      for (const auto& t : buffers) after_rank0.push_back(t.clone());
  }
  restore(after_rank0);
}

int run_reference(const args& a) {
  const long world = a.number("reference-ranks", 1), b = a.number("batch", 4);
  auto model = make_model(a, 42);
  auto opt = make_optimizer(*model, a);
  const bool slicewise = model->slicewise() && a.number("big-batch", 0) == 0;
  for (long s = 0; s < a.number("steps", 5); ++s) {
    auto [x, y] = global_batch(*model, s, world * b, dtype(a));
    opt.zero_grad();
    if (slicewise)
      slicewise_backward(*model, x, y, s, world);
    else
      cross_entropy(model->forward(x, false), y).backward();
    opt.step();
  }
  dump(*model, a.text("out", "reference.bin"));
  return 0;
}

const char* transport(const ddp::reducer& red) {
  return red.shares_host_memory() ? "shared-memory" : "c10d";
}

int run_rank(const args& a) {
  const auto env = ddp::read_rank_env();
  ddp::group_options group_opts;
  group_opts.timeout = std::chrono::milliseconds(a.number("timeout-ms", 30000));
  group_opts.host_allreduce = a.number("host-allreduce", 1) != 0;
  auto group = std::make_shared<ddp::process_group>(env, group_opts);
  // Different initial weights on purpose: the reducer must start every rank from rank 0's.
  auto model = make_model(a, 42 + env.rank);
  ddp::reducer red(*model, group, reducer_options(a));
  std::cout << "rank=" << env.rank << " node=" << env.node_rank << " local_rank=" << env.local_rank
            << " buckets=" << red.bucket_count() << " transport=" << transport(red) << std::endl;

  auto opt = make_optimizer(*model, a);
  const long world = env.world_size, r = env.rank, b = a.number("batch", 4);
  for (long s = 0; s < a.number("steps", 5); ++s) {
    maybe_fault(a, r, s);
    auto [x, y] = global_batch(*model, s, world * b, dtype(a));
    auto xs = x.narrow(0, r * b, b), ys = y.narrow(0, r * b, b);
    const bool aux = uses_aux(r, s, world);
    const auto start = clock_type::now();
    opt.zero_grad();
    try {
      if (s == a.number("no-sync-step", -1)) {
        // Two micro-batches: the first only accumulates, the second averages the sum.
        const long h = b / 2;
        {
          auto local_only = red.no_sync();
          (cross_entropy(red.forward(model, xs.narrow(0, 0, h), aux), ys.narrow(0, 0, h)) / 2)
              .backward();
        }
        (cross_entropy(red.forward(model, xs.narrow(0, h, b - h), aux), ys.narrow(0, h, b - h)) / 2)
            .backward();
      } else {
        cross_entropy(red.forward(model, xs, aux), ys).backward();
      }
      red.finalize();
    } catch (const ddp::collective_error& e) {
      std::cout << "collective_error after " << ms_since(start) << " ms in step " << s << ": "
                << e.what() << std::endl;
      return 3;
    }
    opt.step();
  }
  red.before_forward();  // the next step's buffer broadcast, so every rank dumps rank 0's buffers
  dump(*model, a.text("out", "rank.bin"));
  std::cout << "done" << std::endl;
  return 0;
}

/// This process's CPU time (all threads, Gloo's included) in ms: the cost of sync even where a
/// busy machine makes wall time noisy.
double cpu_ms() {
  timespec t{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return 1e3 * static_cast<double>(t.tv_sec) + 1e-6 * static_cast<double>(t.tv_nsec);
}

/// ResNet-18 on 64x64, batch 32: step time synced vs under no_sync, alternating every `steps`
/// steps so that load from other processes hits both alike.
int run_bench(const args& a) {
  torch::set_num_threads(static_cast<int>(a.number("threads", 1)));
  const auto env = ddp::read_rank_env();
  ddp::group_options group_opts;
  group_opts.host_allreduce = a.number("host-allreduce", 1) != 0;
  auto group = std::make_shared<ddp::process_group>(env, group_opts);
  auto model = make_model(a, 1);
  ddp::reducer red(*model, group, reducer_options(a));
  auto opt = make_optimizer(*model, a);
  const long batch = a.number("batch", 32), steps = a.number("steps", 1),
             rounds = a.number("rounds", 20);
  auto [x, y] = global_batch(*model, 0, batch, torch::kFloat32);
  auto step = [&](bool sync) {
    opt.zero_grad();
    if (sync) {
      cross_entropy(red.forward(model, x, false), y).backward();
      red.finalize();
    } else {
      auto local_only = red.no_sync();
      cross_entropy(red.forward(model, x, false), y).backward();
    }
    opt.step();
  };
  struct totals {
    double wall = 0, cpu = 0;
  } synced, local;
  auto timed = [&](bool sync, totals& t) {
    group->barrier();
    const auto start = clock_type::now();
    const double cpu_start = cpu_ms();
    for (long i = 0; i < steps; ++i) step(sync);
    t.wall += ms_since(start);
    t.cpu += cpu_ms() - cpu_start;
  };
  step(true), step(false);  // warm-up
  for (long i = 0; i < rounds; ++i) timed(true, synced), timed(false, local);
  const double n = static_cast<double>(steps * rounds);
  std::cout << "bench rank=" << env.rank << " buckets=" << red.bucket_count()
            << " transport=" << transport(red) << " sync_ms_per_step=" << synced.wall / n
            << " no_sync_ms_per_step=" << local.wall / n
            << " sync_img_s=" << 1000.0 * batch * n / synced.wall
            << " no_sync_img_s=" << 1000.0 * batch * n / local.wall
            << " overhead_pct=" << 100.0 * (synced.wall - local.wall) / local.wall
            << " cpu_overhead_pct=" << 100.0 * (synced.cpu - local.cpu) / local.cpu << std::endl;
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const args a(argc, argv);
    torch::set_num_threads(1);  // four ranks share two cores
    if (a.text("mode", "train") == "bench") return run_bench(a);
    return a.values.contains("reference-ranks") ? run_reference(a) : run_rank(a);
  } catch (const std::exception& e) {
    std::cout << "error: " << ddp::detail::brief_what(e) << std::endl;
    return 2;
  }
}
