// The requests that put a submission into the workspace, each create-or-get: the environment
// version (a curated one is only referred to), the code version (startPendingUpload, one Put
// Blob per file to the SAS URI it returns, then the version pointing at that folder), the
// AmlCompute cluster (created and waited for, or checked), and finally the command job.
#pragma once
#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <iostream>
#include <optional>
#include <random>
#include <string>

#include "trellis/backends/azure/answer_fields.hpp"
#include "trellis/backends/azure/arm_client.hpp"
#include "trellis/backends/azure/make_submission.hpp"

namespace trellis::backends::azure {

namespace detail {
inline void say(const std::string& line) {
  std::cout << "[trellis] azure: " << line << "\n" << std::flush;
}

/// Percent-encodes a relative path for a blob URL, keeping its slashes.
inline std::string blob_path(const std::string& relative) {
  std::string out;
  for (unsigned char c : relative) {
    if (std::isalnum(c) ||
        std::string_view{"-_.~/"}.find(static_cast<char>(c)) != std::string_view::npos)
      out += static_cast<char>(c);
    else
      out += fmt::format("%{:02X}", c);
  }
  return out;
}

inline std::string random_hex(int digits) {
  std::random_device random;
  std::string s;
  for (int i = 0; i < digits; ++i) s += "0123456789abcdef"[random() % 16];
  return s;
}
}  // namespace detail

/// The environment's id for the job: the registry URI of a curated one, the ARM id of a custom one.
inline std::string ensure_environment(arm_client& arm, const environment_asset& env) {
  if (env.curated) {
    detail::say(
        fmt::format("environment {} (curated, from the azureml registry)", env.registry_id));
    return env.registry_id;
  }
  if (arm.get_if_exists(env.relative())) {
    detail::say(fmt::format("environment {}:{} exists", env.name, env.version));
  } else {
    arm.put(env.relative(), env.body(), "environment " + env.name);
    detail::say(fmt::format("environment {}:{} created", env.name, env.version));
  }
  return arm.id(env.relative());
}

/// A code version: its ARM id and the blob folder its files are in.
struct code_version {
  std::string id, uri;
};

/// The code version of `sources`; the files are uploaded only when no version has this content.
inline code_version ensure_code(arm_client& arm, const code_asset& code, const snapshot& sources) {
  if (const auto existing = arm.get_if_exists(code.relative())) {
    detail::say(fmt::format("code {}:{} exists (same content)", code.name, code.version));
    return {arm.id(code.relative()), text_of(part_of(*existing, "properties"), "codeUri")};
  }
  const auto pending = arm.post(code.relative() + "/startPendingUpload",
                                code_asset::start_upload_body(detail::random_hex(32)));
  const auto reference = part_of(pending, "blobReferenceForConsumption");
  const std::string blob_uri = text_of(reference, "blobUri");
  const std::string sas = text_of(part_of(reference, "credential"), "sasUri");
  if (blob_uri.empty() || sas.empty())
    throw std::runtime_error("startPendingUpload answered no blob URI and SAS URI");
  require_allowed(sas, "the upload SAS URI");
  const auto query = sas.find('?');
  const std::string folder = sas.substr(0, query),
                    signature = query == std::string::npos ? "" : sas.substr(query);
  detail::say(fmt::format("uploading {} files ({:.1f} MB) of code {}:{}", sources.files.size(),
                          static_cast<double>(sources.bytes) / 1e6, code.name, code.version));
  for (const auto& f : sources.files) {
    http_request put{"PUT",
                     folder + "/" + detail::blob_path(f.relative) + signature,
                     {"x-ms-blob-type: BlockBlob", "x-ms-version: 2023-11-03",
                      "Content-Type: application/octet-stream"},
                     {}};
    put.upload_file = f.path;
    put.timeout = std::chrono::seconds{600};
    const auto r = arm.http().send(put);
    if (r.status != 201)
      throw arm_error(r.status, fmt::format("uploading {} to the code folder failed: HTTP {}: {}",
                                            f.relative, r.status, arm_error_text(r)));
  }
  arm.put(code.relative(), code.body(blob_uri), "code " + code.name);
  return {arm.id(code.relative()), blob_uri};
}

/// The cluster's ARM id: created and waited for when missing, else checked against the pipeline.
inline std::string ensure_compute(arm_client& arm, const compute_cluster& c, std::size_t nodes,
                                  const std::string& location) {
  if (const auto existing = arm.get_if_exists(c.relative())) {
    const auto props = part_of(*existing, "properties");
    const std::string type = text_of(props, "computeType");
    const auto aml = part_of(props, "properties");
    const std::string size = text_of(aml, "vmSize");
    auto lower = [](std::string s) {
      std::transform(s.begin(), s.end(), s.begin(),
                     [](unsigned char x) { return std::tolower(x); });
      return s;
    };
    if (type != "AmlCompute" || lower(size) != lower(c.vm_size))
      throw std::runtime_error(
          fmt::format("compute '{}' exists as {} {}, the pipeline asks for AmlCompute {}: name "
                      "another cluster with "
                      "cluster<\"...\"> or change the VM size",
                      c.name, type, size, c.vm_size));
    const auto max_nodes = number_of(part_of(aml, "scaleSettings"), "maxNodeCount", 0);
    if (max_nodes > 0 && static_cast<std::size_t>(max_nodes) < nodes)
      throw std::runtime_error(
          fmt::format("compute '{}' scales to {} nodes, the job needs {}: raise its maximum",
                      c.name, max_nodes, nodes));
    detail::say(fmt::format("compute {} exists ({})", c.name, size));
  } else {
    detail::say(fmt::format("creating compute {} ({}, {} to {} nodes{})", c.name, c.vm_size,
                            c.min_nodes, c.max_nodes, c.low_priority ? ", low priority" : ""));
    arm.put(c.relative(), c.body(location), "compute " + c.name);
  }
  return arm.id(c.relative());
}

}  // namespace trellis::backends::azure
