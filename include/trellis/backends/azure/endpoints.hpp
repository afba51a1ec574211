// Where the Azure backend sends requests: Azure Resource Manager and the Microsoft identity
// platform, each overridable (TRELLIS_AZURE_ARM_ENDPOINT, AZURE_AUTHORITY_HOST as the Azure SDKs
// name it), the pinned api-version, and the rule every URL it contacts must pass: https, or
// plain http to a loopback address only (how the tests reach their emulator).
#pragma once
#include <fmt/format.h>

#include <cstdlib>
#include <stdexcept>
#include <string>
#include <string_view>

namespace trellis::backends::azure {

/// Microsoft.MachineLearningServices' newest stable api-version in the split swagger layout,
/// the one its ARM template schemas and examples in tests/azure/spec are published for.
inline constexpr std::string_view api_version = "2025-09-01";
/// The scope of every token the driver asks for: ARM, which Azure ML's data plane also accepts.
inline constexpr std::string_view arm_scope = "https://management.azure.com/.default";

struct url_parts {
  std::string scheme, host, port, path;  ///< path includes the query string
};

inline url_parts parse_url(std::string_view url) {
  url_parts u;
  const auto colon = url.find("://");
  if (colon == std::string_view::npos)
    throw std::invalid_argument(fmt::format("'{}' is not a URL", url));
  u.scheme = std::string{url.substr(0, colon)};
  std::string_view rest = url.substr(colon + 3);
  const auto slash = rest.find_first_of("/?");
  std::string_view authority = rest.substr(0, slash);
  u.path = slash == std::string_view::npos ? "/" : std::string{rest.substr(slash)};
  if (authority.find('@') != std::string_view::npos)
    throw std::invalid_argument("URLs with user information are not accepted");
  if (!authority.empty() && authority.front() == '[') {  // [::1]:8080
    const auto close = authority.find(']');
    u.host = std::string{authority.substr(1, close - 1)};
    if (close + 1 < authority.size() && authority[close + 1] == ':')
      u.port = std::string{authority.substr(close + 2)};
  } else {
    const auto port = authority.rfind(':');
    u.host = std::string{authority.substr(0, port)};
    if (port != std::string_view::npos) u.port = std::string{authority.substr(port + 1)};
  }
  if (u.host.empty()) throw std::invalid_argument(fmt::format("'{}' has no host", url));
  return u;
}

/// localhost, ::1 or an IPv4 literal in 127.0.0.0/8 (not a name that merely starts with 127.).
inline bool is_loopback_host(std::string_view host) {
  if (host == "localhost" || host == "::1") return true;
  if (!host.starts_with("127.") || host.find_first_not_of("0123456789.") != std::string_view::npos)
    return false;
  int dots = 0;
  for (char c : host) dots += c == '.';
  return dots == 3 && !host.ends_with(".") && host.find("..") == std::string_view::npos;
}

/// The URL without its query string: SAS signatures live there, and errors and logs print URLs.
inline std::string redact(std::string_view url) {
  return std::string{url.substr(0, url.find('?'))};
}

/// Throws unless `url` is https, or http to a loopback host; `what` names it in the error.
inline void require_allowed(std::string_view url, std::string_view what) {
  const auto u = parse_url(url);
  if (u.scheme == "https") return;
  if (u.scheme == "http" && is_loopback_host(u.host)) return;
  throw std::runtime_error(
      fmt::format("{} '{}' must be https (plain http is accepted only for a loopback address such "
                  "as 127.0.0.1)",
                  what, redact(url)));
}

namespace detail {
inline std::string endpoint_from(const char* variable, std::string_view fallback) {
  const char* v = std::getenv(variable);
  std::string url = v && *v ? v : std::string{fallback};
  while (!url.empty() && url.back() == '/') url.pop_back();
  require_allowed(url, variable);
  return url;
}
}  // namespace detail

/// https://management.azure.com, or TRELLIS_AZURE_ARM_ENDPOINT.
inline std::string arm_endpoint() {
  return detail::endpoint_from("TRELLIS_AZURE_ARM_ENDPOINT", "https://management.azure.com");
}

/// https://login.microsoftonline.com, or AZURE_AUTHORITY_HOST.
inline std::string authority_host() {
  return detail::endpoint_from("AZURE_AUTHORITY_HOST", "https://login.microsoftonline.com");
}

}  // namespace trellis::backends::azure
