// credential: a bearer token for https://management.azure.com/.default, from the first source
// present: AZURE_ACCESS_TOKEN; client credentials (AZURE_TENANT_ID, AZURE_CLIENT_ID,
// AZURE_CLIENT_SECRET) against {AZURE_AUTHORITY_HOST}/{tenant}/oauth2/v2.0/token; then
// `az account get-access-token`. Tokens are refreshed before they expire and never printed.
#pragma once
#include <fmt/format.h>
#include <stdlib.h>
#include <unistd.h>

#include <cctype>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>

#include "trellis/backends/azure/answer_fields.hpp"
#include "trellis/backends/azure/endpoints.hpp"
#include "trellis/backends/azure/http.hpp"
#include "trellis/core/process/child.hpp"

namespace trellis::backends::azure {

/// No token could be had, or Azure refused the one given; the message names the source.
struct auth_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

namespace detail {
inline std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

inline std::string form_escape(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~')
      out += static_cast<char>(c);
    else
      out += fmt::format("%{:02X}", c);
  }
  return out;
}

/// True when `program` is an executable file in a folder of PATH.
inline bool on_path(const std::string& program) {
  std::stringstream path(env("PATH"));
  for (std::string dir; std::getline(path, dir, ':');)
    if (!dir.empty() && ::access((std::filesystem::path{dir} / program).c_str(), X_OK) == 0)
      return true;
  return false;
}
}  // namespace detail

class credential {
 public:
  /// The first source present in the environment; throws auth_error naming all three when none is.
  static credential from_environment(http_client& http) {
    credential c{http};
    if (const auto token = detail::env("AZURE_ACCESS_TOKEN"); !token.empty()) {
      c.kind_ = source_kind::fixed;
      c.source_ = "AZURE_ACCESS_TOKEN";
      c.token_ = token;
      c.expires_ = std::chrono::system_clock::time_point::max();
      return c;
    }
    const std::string tenant = detail::env("AZURE_TENANT_ID"),
                      client = detail::env("AZURE_CLIENT_ID"),
                      secret = detail::env("AZURE_CLIENT_SECRET");
    if (!tenant.empty() || !client.empty() || !secret.empty()) {
      std::string missing;
      for (const auto& [name, value] :
           {std::pair{"AZURE_TENANT_ID", &tenant}, std::pair{"AZURE_CLIENT_ID", &client},
            std::pair{"AZURE_CLIENT_SECRET", &secret}})
        if (value->empty()) missing += (missing.empty() ? "" : ", ") + std::string{name};
      if (!missing.empty())
        throw auth_error(
            "client credentials are incomplete: " + missing +
            " not set (set all of AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_CLIENT_SECRET)");
      c.kind_ = source_kind::client_secret;
      c.source_ =
          fmt::format("client credentials (AZURE_CLIENT_ID {} in tenant {})", client, tenant);
      c.tenant_ = tenant;
      c.client_ = client;
      c.secret_ = secret;
      return c;
    }
    if (detail::on_path("az")) {
      c.kind_ = source_kind::az_cli;
      c.source_ = "the Azure CLI (az account get-access-token)";
      return c;
    }
    throw auth_error(
        "no Azure credentials: set AZURE_ACCESS_TOKEN, or AZURE_TENANT_ID, AZURE_CLIENT_ID and "
        "AZURE_CLIENT_SECRET (a service principal), or sign in with `az login`");
  }

  /// Where the token comes from, for messages: never the token itself.
  [[nodiscard]] const std::string& source() const { return source_; }

  /// A token valid for at least five more minutes.
  const std::string& token() {
    if (token_.empty() || std::chrono::system_clock::now() + std::chrono::minutes{5} >= expires_)
      refresh();
    return token_;
  }

 private:
  enum class source_kind { fixed, client_secret, az_cli };
  explicit credential(http_client& http) : http_{&http} {}

  void refresh() {
    if (kind_ == source_kind::client_secret) return from_identity_platform();
    if (kind_ == source_kind::az_cli) return from_az_cli();
  }

  void from_identity_platform() {
    const std::string url =
        fmt::format("{}/{}/oauth2/v2.0/token", authority_host(), detail::form_escape(tenant_));
    http_request r{"POST",
                   url,
                   {"Content-Type: application/x-www-form-urlencoded", "Accept: application/json"},
                   {}};
    r.body = "grant_type=client_credentials&client_id=" + detail::form_escape(client_) +
             "&client_secret=" + detail::form_escape(secret_) +
             "&scope=" + detail::form_escape(std::string{arm_scope});
    const auto response = http_->send(r);
    const auto body = nlohmann::json::parse(response.body, nullptr, false);
    if (response.status != 200 || text_of(body, "access_token").empty()) {
      std::string why = fmt::format("HTTP {}", response.status);
      if (body.is_object() && body.contains("error")) {
        why += ": " + text_of(body, "error");
        const auto description = text_of(body, "error_description");
        if (!description.empty()) why += " (" + description.substr(0, description.find('\n')) + ")";
      }
      throw auth_error(
          fmt::format("the identity platform at {} refused {}: {}", redact(url), source_, why));
    }
    token_ = body.at("access_token").get<std::string>();
    expires_ = std::chrono::system_clock::now() +
               std::chrono::seconds{number_of(body, "expires_in", 3599)};
  }

  void from_az_cli() {
    // az writes the token to stdout; it goes to a file only this user can read, deleted at once.
    char folder[] = "/tmp/trellis-az-XXXXXX";
    if (!::mkdtemp(folder))
      throw auth_error("cannot create a private folder for the Azure CLI's answer");
    const std::filesystem::path out = std::filesystem::path{folder} / "token.json";
    core::process::exit_status status;
    std::string text;
    try {
      status = core::process::child::spawn({{"az", "account", "get-access-token", "--scope",
                                             std::string{arm_scope}, "--output", "json"},
                                            {},
                                            out})
                   .wait();
      std::ifstream in(out);
      text.assign(std::istreambuf_iterator<char>{in}, {});
    } catch (...) {
      std::filesystem::remove_all(folder);
      throw;
    }
    std::filesystem::remove_all(folder);
    // Warnings on stderr may come before the JSON object on stdout.
    const auto open = text.find('{'), close = text.rfind('}');
    const auto body =
        open == std::string::npos || close < open
            ? nlohmann::json{}
            : nlohmann::json::parse(text.substr(open, close - open + 1), nullptr, false);
    if (!status.success() || text_of(body, "accessToken").empty()) {
      // When az fails it prints its error, never a token: pass the first line on.
      std::string why = status.describe();
      if (!status.success() && !text.empty()) why += ": " + text.substr(0, text.find('\n'));
      throw auth_error(
          fmt::format("{} failed ({}); run `az login` or set AZURE_ACCESS_TOKEN", source_, why));
    }
    token_ = body.at("accessToken").get<std::string>();
    if (body.contains("expires_on") && body["expires_on"].is_number_integer())
      expires_ = std::chrono::system_clock::time_point{
          std::chrono::seconds{body["expires_on"].get<long long>()}};
    else
      expires_ = std::chrono::system_clock::now() + std::chrono::minutes{30};
  }

  http_client* http_;
  source_kind kind_ = source_kind::fixed;
  std::string source_, tenant_, client_, secret_, token_;
  std::chrono::system_clock::time_point expires_{};
};

}  // namespace trellis::backends::azure
