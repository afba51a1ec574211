// The rendezvous address: resolving MASTER_ADDR within a time limit (the plan and every rank do,
// so a name nobody answers for fails in time instead of hanging), whether it is an address of
// this machine, and whether a TCP port on it is free. Plain POSIX.
#pragma once
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

namespace trellis::posix {

/// A host's first TCP address, or why it has none.
struct resolved_host {
  sockaddr_storage address{};
  socklen_t length = 0;
  std::string error;  ///< empty once resolved

  [[nodiscard]] bool ok() const { return error.empty(); }
  /// The address as text ("127.0.0.1", "::1").
  [[nodiscard]] std::string text() const {
    char out[INET6_ADDRSTRLEN] = {};
    const void* raw =
        address.ss_family == AF_INET6
            ? static_cast<const void*>(&reinterpret_cast<const sockaddr_in6&>(address).sin6_addr)
            : static_cast<const void*>(&reinterpret_cast<const sockaddr_in&>(address).sin_addr);
    return ::inet_ntop(address.ss_family, raw, out, sizeof out) ? out : "?";
  }
};

namespace detail {
inline resolved_host resolve_now(const std::string& host, int flags) {
  resolved_host r;
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = flags;
  addrinfo* list = nullptr;
  if (const int rc = ::getaddrinfo(host.c_str(), nullptr, &hints, &list); rc != 0) {
    r.error = rc == EAI_SYSTEM ? std::strerror(errno) : ::gai_strerror(rc);
    return r;
  }
  std::memcpy(&r.address, list->ai_addr, list->ai_addrlen);
  r.length = list->ai_addrlen;
  ::freeaddrinfo(list);
  return r;
}
}  // namespace detail

/// Resolves `host`, a numeric address at once, a name waiting at most `limit` for the resolver
/// (which may retry for much longer: its lookup is left to finish on its own).
inline resolved_host resolve_host(const std::string& host, std::chrono::milliseconds limit) {
  if (host.empty()) return {.error = "the address is empty"};
  if (auto numeric = detail::resolve_now(host, AI_NUMERICHOST); numeric.ok()) return numeric;
  struct lookup {
    std::mutex mutex;
    std::condition_variable done_cv;
    bool done = false;
    resolved_host result;
  };
  auto state = std::make_shared<lookup>();
  std::thread([state, host] {
    auto result = detail::resolve_now(host, 0);
    const std::lock_guard lock{state->mutex};
    state->result = std::move(result);
    state->done = true;
    state->done_cv.notify_all();
  }).detach();
  std::unique_lock lock{state->mutex};
  if (!state->done_cv.wait_for(lock, limit, [&] { return state->done; }))
    return {.error =
                "the resolver gave no answer within " +
                std::to_string(std::chrono::duration_cast<std::chrono::seconds>(limit).count()) +
                " s"};
  return state->result;
}

namespace detail {
/// Binds a TCP socket (with SO_REUSEADDR, as a listening rendezvous does) to `host`:`port`;
/// returns 0 or the errno of the failure.
inline int try_bind(const resolved_host& host, std::uint16_t port) {
  sockaddr_storage sa = host.address;
  if (sa.ss_family == AF_INET6)
    reinterpret_cast<sockaddr_in6&>(sa).sin6_port = htons(port);
  else
    reinterpret_cast<sockaddr_in&>(sa).sin_port = htons(port);
  const int fd = ::socket(sa.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return errno;
  const int on = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
  const int error = ::bind(fd, reinterpret_cast<sockaddr*>(&sa), host.length) == 0 ? 0 : errno;
  ::close(fd);
  return error;
}
}  // namespace detail

/// True when `host` is an address of this machine (a socket can be bound to it).
inline bool is_local_address(const resolved_host& host) {
  return host.ok() && detail::try_bind(host, 0) != EADDRNOTAVAIL;
}

/// True when nobody listens on host:port. A port left in TIME_WAIT by an earlier run is free:
/// the rendezvous binds it with SO_REUSEADDR, and so does this check.
inline bool port_is_free(const resolved_host& host, std::uint16_t port) {
  return host.ok() && detail::try_bind(host, port) == 0;
}

}  // namespace trellis::posix
