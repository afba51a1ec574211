// The plan in two forms: deterministic JSON (same program, same bytes) and a human summary.
#pragma once
#include <string>
#include <type_traits>

#include "trellis/cli/settings.hpp"
#include "trellis/plan/field_values.hpp"
#include "trellis/plan/json.hpp"
#include "trellis/plan/run_plan.hpp"

namespace trellis::plan {

namespace detail {
struct json_fields {  // writes either the type's fields or the braces' fields of a stage
  json_writer& out;
  bool settings;
  template <class T>
  void fixed(text_view name, const T& v) {
    if (settings) return;
    out.key(to_std(name));
    write_value(out, v);
  }
  template <class T>
  void setting(text_view name, const T& v, const limits& = {}) {
    if (!settings) return;
    out.key(to_std(name));
    write_value(out, v);
  }
  void inapplicable(text_view, text_view) {}  // not used: nothing to record
};
}  // namespace detail

template <class Pipeline>
std::string plan_json(const Pipeline& p, const run_plan& plan) {
  json_writer out;
  out.begin_object();
  out.key("trellis_plan").value(1);
  out.key("program").value(plan.program);
  out.key("backend").value(name_of(plan.backend));
  out.key("mode").value(plan.mode);
  out.key("workspace").value(plan.workspace);
  out.key("stages").begin_array();
  for_each_stage(p, [&](const auto& stage) {
    using S = std::remove_cvref_t<decltype(stage)>;
    out.begin_object().key("stage").value(cli::keyword_of<S>());
    for (bool settings : {false, true}) {
      out.key(settings ? "settings" : "type").begin_object();
      detail::json_fields fields{out, settings};
      S::fields(stage, fields);
      out.end_object();
    }
    out.end_object();
  });
  out.end_array();
  out.key("topology").begin_object();
  out.key("framework").value(name_of(plan.framework));
  out.key("nodes").value(plan.nodes);
  out.key("procs_per_node").value(plan.procs);
  out.key("world_size").value(plan.world_size());
  out.key("launch").value(name_of(plan.launch));
  out.key("collective").value(name_of(plan.collective));
  out.key("master_addr").value(plan.master_addr);
  out.key("master_port").value(plan.master_port);
  out.key("timeout_s").value(plan.timeout_s);
  out.key("max_restarts").value(plan.max_restarts);
  out.key("batch_per_rank").value(plan.batch_per_rank);
  out.end_object();
  out.key("ranks").begin_array();
  for (const auto& r : plan.ranks)
    out.begin_object()
        .key("global_rank").value(r.global_rank)
        .key("node").value(r.node)
        .key("local_rank").value(r.local_rank)
        .key("device").value(r.device)
        .end_object();
  out.end_array();
  out.key("resources").begin_object();
  out.key("target").value(plan.target);
  out.key("instance_count").value(plan.nodes);
  out.key("process_count_per_instance").value(plan.procs);
  out.key("gpus_per_node").value(plan.gpus_per_node);
  out.end_object();
  out.key("checks").begin_array();
  for (const auto& c : plan.checks)
    out.begin_object()
        .key("check")
        .value(c.name)
        .key("ok")
        .value(c.ok)
        .key("detail")
        .value(c.detail)
        .end_object();
  out.end_array();
  out.key("transfer_from");
  if (plan.transfer)
    out.begin_object()
        .key("model").value(plan.transfer->model)
        .key("file").value(plan.transfer->file)
        .key("sha256").value(plan.transfer->sha256)
        .end_object();
  else
    out.null();
  out.key("not_carried_out").begin_array();
  for (const auto& stage : plan.not_carried_out) out.value(stage);
  out.end_array();
  out.end_object();
  return out.str();
}

/// The run-time fields of every stage after --set, as JSON: {"train": {"lr": 0.001, ...}, ...}.
template <class Pipeline>
std::string settings_json(const Pipeline& p) {
  json_writer out;
  out.begin_object();
  for_each_stage(p, [&](const auto& stage) {
    using S = std::remove_cvref_t<decltype(stage)>;
    out.key(cli::keyword_of<S>()).begin_object();
    detail::json_fields fields{out, true};
    S::fields(stage, fields);
    out.end_object();
  });
  out.end_object();
  return out.str();
}

inline std::string plan_summary(const run_plan& plan) {
  std::string s = "plan for " + plan.program + "\n";
  s += "  backend   " + std::string{name_of(plan.backend)} + " (" + plan.mode + ")\n";
  s += "  topology  " + std::string{name_of(plan.framework)} + ", " + std::to_string(plan.nodes) +
       " node(s) x " + std::to_string(plan.procs) + " proc(s) = world size " +
       std::to_string(plan.world_size()) + ", " + std::string{name_of(plan.launch)} + " launch, " +
       std::string{name_of(plan.collective)} + "\n";
  if (plan.batch_per_rank > 0)
    s += "  batch     " + std::to_string(plan.batch_per_rank) + " per rank (" +
         std::to_string(plan.batch_per_rank * plan.world_size()) + " over all ranks)\n";
  s += "  ranks    ";
  for (const auto& r : plan.ranks)
    s += " " + std::to_string(r.global_rank) + "@node" + std::to_string(r.node) + "/" + r.device;
  s += "\n  checks\n";
  for (const auto& c : plan.checks)
    s += std::string{"    ["} + (c.ok ? "ok" : "FAILED") + "] " + c.name + ": " + c.detail + "\n";
  if (plan.transfer)
    s += "  transfer  from " + plan.transfer->model + " (" + plan.transfer->file + ")\n";
  if (!plan.not_carried_out.empty()) s += "  not done  " + plan.not_carried_out_sentence() + "\n";
  return s;
}

}  // namespace trellis::plan
