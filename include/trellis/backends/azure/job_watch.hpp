// Following a submitted job: its status polled until it ends, rank 0's log streamed to the
// terminal while it runs (run history's log files, read by byte range), Ctrl-C turned into
// Azure's cancel action, and at the end every log and the job's outputs/ downloaded to the run
// folder. On failure it names the failing rank and shows the tail of its log.
#pragma once
#include <fmt/format.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <optional>
#include <regex>
#include <set>
#include <string>
#include <thread>

#include "trellis/backends/azure/answer_fields.hpp"
#include "trellis/backends/azure/arm_client.hpp"
#include "trellis/backends/local/log_stream.hpp"
#include "trellis/backends/local/rank_status.hpp"
#include "trellis/backends/local/supervise.hpp"

namespace trellis::backends::azure {

/// Where the workspace's data plane (run history, artifacts) and MLflow tracking answer.
struct data_plane {
  std::string api;         ///< from the workspace's discovery URL
  std::string mlflow_uri;  ///< the workspace's mlFlowTrackingUri
  std::string location;    ///< the workspace's region, which new clusters take
};

inline data_plane discover(arm_client& arm) {
  const auto ws = arm.workspace_resource();
  const auto props = part_of(ws, "properties");
  data_plane d;
  d.location = text_of(ws, "location");
  d.mlflow_uri = text_of(props, "mlFlowTrackingUri");
  const std::string discovery = text_of(props, "discoveryUrl");
  if (discovery.empty()) throw std::runtime_error("the workspace has no discoveryUrl");
  d.api = text_of(arm.get_absolute(discovery), "api");
  if (d.api.empty())
    throw std::runtime_error("the workspace's discovery answer names no api endpoint");
  while (!d.api.empty() && d.api.back() == '/') d.api.pop_back();
  require_allowed(d.api, "the workspace's API endpoint");
  return d;
}

struct job_outcome {
  std::string status;  ///< Completed, Failed, Canceled, NotResponding
  std::string studio_url;
  std::optional<std::size_t> failing_rank;
  std::string error;  ///< run history's error message, if any
};

inline bool is_terminal(const std::string& status) {
  return status == "Completed" || status == "Failed" || status == "Canceled" ||
         status == "NotResponding";
}

/// The rank of a per-process log: user_logs/std_log_process_3.txt is rank 3, std_log.txt rank 0.
inline std::optional<std::size_t> rank_of_log(const std::string& name) {
  static const std::regex process(R"(user_logs/std_log_process_(\d+)\.txt)");
  std::smatch m;
  if (std::regex_search(name, m, process)) return std::stoul(m[1].str());
  if (name.ends_with("user_logs/std_log.txt")) return 0;
  return std::nullopt;
}

/// Where the driver keeps rank `rank`'s log of a job.
inline std::filesystem::path rank_log_file(const std::filesystem::path& run_dir, std::size_t rank) {
  return run_dir / "logs" / fmt::format("rank_{}.log", rank);
}

/// The rank that failed first, from the downloaded logs of `ranks` and Azure's error message.
/// Azure names the first process that exited, which may be a rank that only saw another fail in
/// a collective: a rank whose log ends in its own error comes before it, and the named one
/// before those that failed in a collective.
inline std::optional<std::size_t> first_failed_rank(const std::filesystem::path& run_dir,
                                                    const std::set<std::size_t>& ranks,
                                                    const std::string& azure_error) {
  const auto first_logging = [&](auto prefix_of) -> std::optional<std::size_t> {
    for (const auto rank : ranks) {
      std::ifstream in(rank_log_file(run_dir, rank));
      const std::string text{std::istreambuf_iterator<char>{in}, {}};
      if (text.find(prefix_of(rank)) != std::string::npos) return rank;
    }
    return std::nullopt;
  };
  if (const auto own = first_logging(local::own_failure_prefix)) return own;
  if (const auto named = rank_of_log(azure_error)) return named;
  return first_logging(local::collective_failure_prefix);
}

class job_watch {
 public:
  job_watch(arm_client& arm, data_plane plane, std::string job, std::filesystem::path run_dir)
      : arm_{&arm}, plane_{std::move(plane)}, job_{std::move(job)}, run_dir_{std::move(run_dir)} {}

  /// Told the job's Studio page once it is known.
  std::function<void(const std::string&)> on_link;

  /// Polls until the job ends; Ctrl-C cancels it (and the status then says Canceled).
  job_outcome follow() {
    using namespace std::chrono_literals;
    job_outcome outcome;
    std::string last;
    bool cancel_sent = false, linked = false;
    auto wait = 1s;
    for (;;) {
      if (local::interrupted && !cancel_sent) {
        cancel();
        cancel_sent = true;
      }
      const auto job = arm_->get("jobs/" + job_);
      const auto props = part_of(job, "properties");
      outcome.status = text_of(props, "status");
      if (outcome.status.empty()) outcome.status = "Unknown";
      outcome.studio_url = text_of(part_of(part_of(props, "services"), "Studio"), "endpoint");
      if (!outcome.studio_url.empty() && !linked && on_link) on_link(outcome.studio_url);
      linked = linked || !outcome.studio_url.empty();
      stream_rank0();  // before the status, so that "Completed" follows the log's last lines
      if (outcome.status != last) {
        std::cout << fmt::format("[trellis] azure: job {}: {}\n", job_, outcome.status)
                  << std::flush;
        last = outcome.status;
      }
      if (is_terminal(outcome.status)) break;
      pause(wait, cancel_sent);
      wait = std::min(wait * 2, std::chrono::seconds{cancel_sent ? 2 : 10});
    }
    const auto details = run_details();
    const auto error = part_of(details, "error");
    outcome.error = text_of(error.contains("error") ? part_of(error, "error") : error, "message");
    download_logs(details);
    if (outcome.status == "Failed")
      outcome.failing_rank = first_failed_rank(run_dir_, ranks_, outcome.error);
    return outcome;
  }

  /// Every file under the job's outputs/ (run artifacts) into run_dir/outputs.
  std::size_t download_outputs() {
    std::size_t count = 0;
    std::string token;
    do {
      auto url = fmt::format(
          "{}/artifact/v2.0{}/artifacts/prefix/contentinfo/ExperimentRun/dcid.{}/outputs",
          plane_.api, arm_->workspace().path(), job_);
      if (!token.empty()) url += "?continuationToken=" + token;
      const auto page = arm_->get_absolute(url);
      for (const auto& item : part_of(page, "value", true)) {
        const std::string path = text_of(item, "path"), content = text_of(item, "contentUri");
        if (path.empty() || content.empty() || path.find("..") != std::string::npos ||
            path.front() == '/')
          continue;
        download(content, run_dir_ / path);
        ++count;
      }
      token = text_of(page, "continuationToken");
    } while (!token.empty());
    return count;
  }

  [[nodiscard]] std::filesystem::path rank_log(std::size_t rank) const {
    return rank_log_file(run_dir_, rank);
  }

 private:
  void pause(std::chrono::seconds wait, bool cancel_sent) const {
    const auto until = std::chrono::steady_clock::now() + wait;
    while (std::chrono::steady_clock::now() < until) {
      if (local::interrupted && !cancel_sent) return;
      std::this_thread::sleep_for(std::chrono::milliseconds{100});
    }
  }

  void cancel() {
    std::cerr << fmt::format("[trellis] azure: interrupted: canceling job {}\n", job_);
    arm_->post_action("jobs/" + job_ + "/cancel");
  }

  nlohmann::json run_details() {
    return arm_->get_absolute(fmt::format("{}/history/v1.0{}/runs/{}/details", plane_.api,
                                          arm_->workspace().path(), job_));
  }

  /// Appends what rank 0's log has gained since the last call to the terminal and its local copy.
  void stream_rank0() {
    nlohmann::json details;
    try {
      details = run_details();
    } catch (const arm_error& e) {
      if (e.status == 404) return;  // no run history yet
      throw;
    }
    const auto logs = part_of(details, "logFiles");
    for (const auto& [name, url] : logs.items()) {
      if (!url.is_string() || rank_of_log(name) != std::optional<std::size_t>{0}) continue;
      http_request r{
          "GET", url.get<std::string>(), {fmt::format("Range: bytes={}-", streamed_)}, {}};
      const auto got = arm_->http().send(r);
      std::string fresh;
      if (got.status == 206)
        fresh = got.body;
      else if (got.status == 200 && got.body.size() > streamed_)
        fresh = got.body.substr(streamed_);
      if (fresh.empty()) return;
      std::cout << fresh << std::flush;
      std::filesystem::create_directories(rank_log(0).parent_path());
      std::ofstream(rank_log(0), std::ios::binary | std::ios::app) << fresh;
      streamed_ += fresh.size();
    }
  }

  void download(const std::string& url, const std::filesystem::path& to) {
    http_request r{"GET", url, {}, {}};
    r.download_file = to;
    r.timeout = std::chrono::seconds{1800};
    const auto got = arm_->http().send(r);
    if (got.status != 200)
      throw arm_error(got.status, fmt::format("downloading {} failed: HTTP {}",
                                              to.filename().string(), got.status));
  }

  void download_logs(const nlohmann::json& details) {
    const auto logs = part_of(details, "logFiles");
    for (const auto& [name, url] : logs.items()) {
      if (!url.is_string()) continue;
      const auto rank = rank_of_log(name);
      const auto local =
          rank ? rank_log(*rank) : run_dir_ / "logs" / std::filesystem::path{name}.filename();
      download(url.get<std::string>(), local);
      if (rank) ranks_.insert(*rank);
    }
  }

  arm_client* arm_;
  data_plane plane_;
  std::string job_;
  std::filesystem::path run_dir_;
  std::size_t streamed_ = 0;
  std::set<std::size_t> ranks_;
};

}  // namespace trellis::backends::azure
