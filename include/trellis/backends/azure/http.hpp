// http_client: libcurl with TLS verification always on, a timeout on every request, and retries
// with exponential backoff and jitter on 429, 500, 502, 503, 504 and connection errors,
// waiting at least what Retry-After (or retry-after-ms) asks. Redirects are never followed, so a
// bearer token only ever goes to the URL it was given for; errors print URLs without queries.
#pragma once
#include <curl/curl.h>
#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "trellis/backends/azure/endpoints.hpp"

namespace trellis::backends::azure {

struct http_request {
  http_request(std::string m, std::string u, std::vector<std::string> h = {}, std::string b = {})
      : method{std::move(m)}, url{std::move(u)}, headers{std::move(h)}, body{std::move(b)} {}

  std::string method;
  std::string url;
  std::vector<std::string> headers;  ///< "Name: value"
  std::string body;
  std::filesystem::path upload_file;    ///< sent as the body when set (blob uploads)
  std::filesystem::path download_file;  ///< receives the body when set (blob downloads)
  std::chrono::seconds timeout{60};     ///< the whole request; transfers also fail when stalled
};

struct http_response {
  long status = 0;
  std::map<std::string, std::string> headers;  ///< names in lower case
  std::string body;

  [[nodiscard]] std::string header(const std::string& lower_name) const {
    const auto it = headers.find(lower_name);
    return it == headers.end() ? std::string{} : it->second;
  }
};

/// No response at all after every retry (connection refused, timed out, TLS failure ...).
struct http_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct retry_policy {
  int attempts = 6;                       ///< tries in all, the first included
  std::chrono::milliseconds base{500};    ///< the first backoff; doubles each retry
  std::chrono::milliseconds cap{30'000};  ///< no single wait is longer (Retry-After excepted)
};

inline bool is_retried_status(long status) {
  return status == 429 || status == 500 || status == 502 || status == 503 || status == 504;
}

namespace detail {

inline void curl_global() {
  static const bool ready = [] {
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
      throw std::runtime_error("libcurl failed to start");
    return true;
  }();
  (void)ready;
}

inline bool is_retried_error(CURLcode code) {
  switch (code) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_SSL_CONNECT_ERROR:
      return true;
    default:
      return false;
  }
}

/// What Retry-After, retry-after-ms or x-ms-retry-after-ms ask for; zero when none.
inline std::chrono::milliseconds retry_after(const http_response& r) {
  using std::chrono::milliseconds;
  for (const char* name : {"retry-after-ms", "x-ms-retry-after-ms"})
    if (const auto v = r.header(name); !v.empty()) try {
        return milliseconds{std::stoll(v)};
      } catch (const std::exception&) {
      }
  const auto v = r.header("retry-after");
  if (v.empty()) return milliseconds{0};
  if (std::all_of(v.begin(), v.end(), [](unsigned char c) { return std::isdigit(c); }))
    return milliseconds{std::stoll(v) * 1000};
  const std::time_t when = curl_getdate(v.c_str(), nullptr);  // an HTTP-date
  if (when < 0) return milliseconds{0};
  return milliseconds{std::max<long long>(0, (when - std::time(nullptr)) * 1000LL)};
}

struct transfer {
  http_response response;
  std::ofstream download;
  std::FILE* upload = nullptr;
  const std::function<bool()>* abort = nullptr;

  static std::size_t on_body(char* data, std::size_t size, std::size_t count, void* self) {
    auto* t = static_cast<transfer*>(self);
    const std::size_t n = size * count;
    if (t->download.is_open() && t->response.status / 100 == 2) {
      t->download.write(data, static_cast<std::streamsize>(n));
      if (!t->download) return 0;
    } else {
      t->response.body.append(data, n);
    }
    return n;
  }
  static std::size_t on_header(char* data, std::size_t size, std::size_t count, void* self) {
    auto* t = static_cast<transfer*>(self);
    const std::size_t n = size * count;
    std::string line(data, n);
    if (line.rfind("HTTP/", 0) == 0) {  // a new response (after 100 Continue): start over
      t->response.headers.clear();
      const auto space = line.find(' ');
      t->response.status = space == std::string::npos ? 0 : std::atol(line.c_str() + space + 1);
      return n;
    }
    const auto colon = line.find(':');
    if (colon == std::string::npos) return n;
    std::string name = line.substr(0, colon), value = line.substr(colon + 1);
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return std::tolower(c); });
    const auto first = value.find_first_not_of(" \t"), last = value.find_last_not_of(" \t\r\n");
    t->response.headers[name] =
        first == std::string::npos ? "" : value.substr(first, last - first + 1);
    return n;
  }
  static std::size_t on_read(char* buffer, std::size_t size, std::size_t count, void* self) {
    return std::fread(buffer, size, count, static_cast<transfer*>(self)->upload);
  }
  static int on_progress(void* self, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
    const auto* abort = static_cast<transfer*>(self)->abort;
    return abort && *abort && (*abort)() ? 1 : 0;
  }
};

struct easy_deleter {
  void operator()(CURL* c) const { curl_easy_cleanup(c); }
};
struct list_deleter {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};
struct file_closer {
  void operator()(std::FILE* f) const { std::fclose(f); }
};

}  // namespace detail

class http_client {
 public:
  explicit http_client(retry_policy policy = {})
      : policy_{policy}, random_{std::random_device{}()} {
    detail::curl_global();
  }

  /// Polled during transfers and backoff waits: true abandons the request (Ctrl-C).
  std::function<bool()> abort;

  /// One request with retries; any status that is not retried is returned, errors included.
  http_response send(const http_request& request) {
    require_allowed(request.url, "URL");
    for (int attempt = 1;; ++attempt) {
      CURLcode code = CURLE_OK;
      std::string error;
      http_response response = once(request, code, error);
      const bool retry_status = code == CURLE_OK && is_retried_status(response.status);
      if (code == CURLE_OK && !retry_status) return response;
      if (code != CURLE_OK &&
          (code == CURLE_ABORTED_BY_CALLBACK || !detail::is_retried_error(code)))
        throw http_error(fmt::format("{} {}: {}", request.method, redact(request.url), error));
      const std::string what = retry_status ? fmt::format("HTTP {}", response.status) : error;
      if (attempt >= policy_.attempts)
        throw http_error(fmt::format("{} {}: {} (gave up after {} attempts)", request.method,
                                     redact(request.url), what, attempt));
      auto wait = backoff(attempt);
      if (retry_status) wait = std::max(wait, detail::retry_after(response));
      std::cerr << fmt::format(
          "[trellis] azure: {} from {} {}; retrying in {:.1f} s (attempt {} of {})\n", what,
          request.method, redact(request.url), wait.count() / 1000.0, attempt + 1,
          policy_.attempts);
      sleep(wait);
    }
  }

 private:
  std::chrono::milliseconds backoff(int attempt) {
    const auto ceiling =
        std::min<long long>(policy_.cap.count(), policy_.base.count() << std::min(attempt - 1, 20));
    std::uniform_int_distribution<long long> jitter(ceiling / 2,
                                                    ceiling);  // jitter: half to all of it
    return std::chrono::milliseconds{jitter(random_)};
  }

  void sleep(std::chrono::milliseconds wait) const {
    const auto until = std::chrono::steady_clock::now() + wait;
    while (std::chrono::steady_clock::now() < until) {
      if (abort && abort()) throw http_error("interrupted");
      std::this_thread::sleep_for(
          std::min<std::chrono::milliseconds>(wait, std::chrono::milliseconds{100}));
    }
  }

  http_response once(const http_request& request, CURLcode& code, std::string& error) {
    if (!handle_) handle_.reset(curl_easy_init());
    if (!handle_) throw http_error("libcurl could not create a handle");
    CURL* c = handle_.get();
    curl_easy_reset(c);  // keeps the connection cache
    detail::transfer t;
    t.abort = &abort;
    char error_buffer[CURL_ERROR_SIZE] = "";
    std::unique_ptr<curl_slist, detail::list_deleter> headers;
    // No "Expect: 100-continue": some servers never answer it, and curl would wait a second.
    for (const auto& h : request.headers)
      headers.reset(curl_slist_append(headers.release(), h.c_str()));
    headers.reset(curl_slist_append(headers.release(), "Expect:"));

    curl_easy_setopt(c, CURLOPT_URL, request.url.c_str());
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers.get());
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 15L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, static_cast<long>(request.timeout.count()));
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);  // a transfer stalled for 60 s fails
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, 60L);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, error_buffer);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, &detail::transfer::on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &t);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, &detail::transfer::on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &t);
    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, &detail::transfer::on_progress);
    curl_easy_setopt(c, CURLOPT_XFERINFODATA, &t);
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);

    std::unique_ptr<std::FILE, detail::file_closer> upload;
    if (!request.upload_file.empty()) {
      upload.reset(std::fopen(request.upload_file.c_str(), "rb"));
      if (!upload)
        throw std::runtime_error(fmt::format("cannot read '{}'", request.upload_file.string()));
      t.upload = upload.get();
      curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
      curl_easy_setopt(c, CURLOPT_READFUNCTION, &detail::transfer::on_read);
      curl_easy_setopt(c, CURLOPT_READDATA, &t);
      curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE,
                       static_cast<curl_off_t>(std::filesystem::file_size(request.upload_file)));
      curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, request.method.c_str());
    } else if (request.method == "GET") {
      curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
    } else {
      curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE,
                       static_cast<curl_off_t>(request.body.size()));
      curl_easy_setopt(c, CURLOPT_POSTFIELDS, request.body.c_str());
      curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, request.method.c_str());
    }
    if (!request.download_file.empty()) {
      std::filesystem::create_directories(request.download_file.parent_path());
      t.download.open(request.download_file, std::ios::binary | std::ios::trunc);
      if (!t.download)
        throw std::runtime_error(fmt::format("cannot write '{}'", request.download_file.string()));
    }
    code = curl_easy_perform(c);
    if (code != CURLE_OK) error = *error_buffer ? error_buffer : curl_easy_strerror(code);
    return std::move(t.response);
  }

  retry_policy policy_;
  std::mt19937_64 random_;
  std::unique_ptr<CURL, detail::easy_deleter> handle_;
};

}  // namespace trellis::backends::azure
