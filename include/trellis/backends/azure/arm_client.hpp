// arm_client: JSON requests to Azure Resource Manager for one Azure ML workspace, authorized with
// the credential's bearer token: errors turned into messages that say what to fix (401/403 name
// the credential source, 404 on the workspace names the workspace), and the asynchronous
// operations ARM answers with Azure-AsyncOperation or Location headers waited for.
#pragma once
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>

#include "trellis/backends/azure/answer_fields.hpp"
#include "trellis/backends/azure/credentials.hpp"
#include "trellis/backends/azure/endpoints.hpp"
#include "trellis/backends/azure/http.hpp"
#include "trellis/backends/azure/workspace_config.hpp"

namespace trellis::backends::azure {

using json = nlohmann::json;

/// An answer ARM gave that is not success: the message has the HTTP status, ARM's code and text.
struct arm_error : std::runtime_error {
  long status;
  arm_error(long s, const std::string& what) : std::runtime_error(what), status{s} {}
};

/// "Code: message" from ARM's {"error": {"code", "message"}} body, or the body's first line.
inline std::string arm_error_text(const http_response& r) {
  const auto body = json::parse(r.body, nullptr, false);
  if (body.is_object() && body.contains("error") && body["error"].is_object()) {
    const auto& e = body["error"];
    return fmt::format("{}: {}", text_of(e, "code"), text_of(e, "message"));
  }
  return r.body.substr(0, std::min<std::size_t>(r.body.find('\n'), 300));
}

class arm_client {
 public:
  arm_client(http_client& http, credential& cred, workspace_ref ws,
             std::string endpoint = arm_endpoint())
      : http_{&http}, cred_{&cred}, ws_{std::move(ws)}, endpoint_{std::move(endpoint)} {}

  [[nodiscard]] const workspace_ref& workspace() const { return ws_; }
  [[nodiscard]] http_client& http() const { return *http_; }
  [[nodiscard]] const credential& cred() const { return *cred_; }

  /// The ARM id of a workspace resource: relative "computes/gpu" gives
  /// /subscriptions/.../computes/gpu.
  [[nodiscard]] std::string id(const std::string& relative) const {
    return relative.empty() ? ws_.path() : ws_.path() + "/" + relative;
  }

  /// GET the workspace itself: a 404 here is the one that means the workspace is wrong.
  json workspace_resource() {
    const auto r = send("GET", url_of(""), {});
    if (r.status == 404)
      throw arm_error(
          404,
          fmt::format("Azure ML workspace '{}' was not found in resource group '{}' of "
                      "subscription '{}'{} (HTTP 404 {})",
                      ws_.name, ws_.resource_group, ws_.subscription,
                      ws_.config_file.empty() ? "" : " (from " + ws_.config_file.string() + ")",
                      arm_error_text(r)));
    return checked("GET", "", r);
  }

  json get(const std::string& relative) {
    return checked("GET", relative, send("GET", url_of(relative), {}));
  }

  /// GET that answers nullopt for 404 (create-or-get).
  std::optional<json> get_if_exists(const std::string& relative) {
    const auto r = send("GET", url_of(relative), {});
    if (r.status == 404) return std::nullopt;
    return checked("GET", relative, r);
  }

  /// PUT (create or update); waits for the asynchronous operation when ARM starts one.
  json put(const std::string& relative, const json& body, const std::string& what) {
    const auto r = send("PUT", url_of(relative), body.dump());
    auto result = checked("PUT", relative, r);
    wait_for_operation(r, what);
    return result;
  }

  json post(const std::string& relative, const json& body) {
    const auto r = send("POST", url_of(relative), body.dump());
    return checked("POST", relative, r);
  }

  /// POST of an action with no result body (cancel); the raw response for its headers.
  http_response post_action(const std::string& relative) {
    const auto r = send("POST", url_of(relative), "");
    checked("POST", relative, r);
    return r;
  }

  /// GET of a data-plane URL (run history, artifacts) with the same token.
  json get_absolute(const std::string& url) {
    const auto r = send("GET", url, {});
    return checked("GET", redact(url), r);
  }

  /// Waits while Azure-AsyncOperation (status: Succeeded/Failed/Canceled) or Location (202
  /// until done) says the operation runs; throws with the operation's error when it fails.
  void wait_for_operation(const http_response& started, const std::string& what) {
    const std::string async = started.header("azure-asyncoperation");
    const std::string location = started.header("location");
    if (async.empty() && (location.empty() || started.status != 202)) return;
    const std::string url = async.empty() ? location : async;
    require_allowed(url, "operation URL");
    auto wait = std::chrono::milliseconds{500};
    for (bool first = true;; first = false) {
      const auto retry = detail::retry_after(started);
      std::this_thread::sleep_for(
          first && retry.count() > 0 ? std::min(retry, std::chrono::milliseconds{10'000}) : wait);
      wait = std::min(wait * 2, std::chrono::milliseconds{10'000});
      const auto r = send("GET", url, {});
      if (!async.empty()) {
        const auto body = checked("GET", redact(url), r);
        const std::string status = text_of(body, "status");
        if (status == "Succeeded") return;
        if (status == "Failed" || status == "Canceled")
          throw arm_error(r.status, fmt::format("{} {}: {}", what, status,
                                                body.contains("error") ? body["error"].dump()
                                                                       : "no error given"));
        std::cout << fmt::format("[trellis] azure: {}: {}\n", what,
                                 status.empty() ? "in progress" : status)
                  << std::flush;
      } else if (r.status != 202) {
        checked("GET", redact(url), r);
        return;
      }
      if (http_->abort && http_->abort()) throw http_error("interrupted");
    }
  }

 private:
  [[nodiscard]] std::string url_of(const std::string& relative) const {
    const std::string path = id(relative);
    return fmt::format("{}{}{}api-version={}", endpoint_, path,
                       path.find('?') == std::string::npos ? "?" : "&", api_version);
  }

  http_response send(const std::string& method, const std::string& url, const std::string& body) {
    http_request r{
        method, url, {"Authorization: Bearer " + cred_->token(), "Accept: application/json"}, body};
    if (method != "GET") r.headers.push_back("Content-Type: application/json");
    return http_->send(r);
  }

  json checked(const std::string& method, const std::string& what, const http_response& r) {
    if (r.status == 401 || r.status == 403)
      throw auth_error(fmt::format(
          "Azure refused the access token from {} (HTTP {} on {} {}: {}); {}", cred_->source(),
          r.status, method, what.empty() ? "the workspace" : what, arm_error_text(r),
          r.status == 401
              ? "the token is invalid or expired: renew it (az login, or new client credentials)"
              : "the identity has no role that allows this on the workspace (e.g. AzureML Data "
                "Scientist)"));
    if (r.status / 100 != 2)
      throw arm_error(r.status,
                      fmt::format("HTTP {} on {} {}: {}", r.status, method,
                                  what.empty() ? "the workspace" : what, arm_error_text(r)));
    if (r.body.empty()) return json::object();
    auto body = json::parse(r.body, nullptr, false);
    if (body.is_discarded())
      throw arm_error(r.status, fmt::format("{} {}: the answer is not JSON", method, what));
    return body;
  }

  http_client* http_;
  credential* cred_;
  workspace_ref ws_;
  std::string endpoint_;
};

}  // namespace trellis::backends::azure
