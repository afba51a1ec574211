// child: one spawned process (argv + extra environment, stdout/stderr to a log file), leader of
// its own process group so a whole rank tree can be signalled at once. The handle owns it: a
// child still running when the handle dies is SIGKILLed (with its group) and reaped.
#pragma once
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <cerrno>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "trellis/core/process/exit_status.hpp"

extern char** environ;

namespace trellis::core::process {

struct spawn_request {
  std::vector<std::string> argv;           ///< argv[0] is searched in PATH when it has no '/'
  std::map<std::string, std::string> env;  ///< set on top of this process's environment
  std::filesystem::path log;               ///< receives stdout and stderr; stdin is /dev/null
  bool append_log = false;                 ///< a restarted rank keeps its earlier log
};

class child {
 public:
  child() = default;
  child(child&& other) noexcept : pid_(std::exchange(other.pid_, -1)), status_(other.status_) {}
  child& operator=(child&& other) noexcept {
    if (this != &other) {
      reap_now();
      pid_ = std::exchange(other.pid_, -1);
      status_ = other.status_;
    }
    return *this;
  }
  child(const child&) = delete;
  child& operator=(const child&) = delete;
  ~child() { reap_now(); }

  /// Starts the process; throws std::system_error naming the program when it cannot start.
  static child spawn(const spawn_request& request);

  pid_t pid() const { return pid_; }
  bool running() const { return pid_ > 0 && !status_; }
  const std::optional<exit_status>& status() const { return status_; }

  /// Non-blocking: the status once the process has ended (reaps it), else nullopt.
  std::optional<exit_status> try_wait() { return wait_impl(WNOHANG); }
  exit_status wait() { return *wait_impl(0); }

  /// Sends sig to the child's whole process group (no-op once it has been reaped).
  void signal_group(int sig) const {
    if (running()) ::kill(-pid_, sig);
  }

 private:
  std::optional<exit_status> wait_impl(int flags) {
    if (status_ || pid_ <= 0) return status_;
    int raw = 0;
    pid_t got = 0;
    do got = ::waitpid(pid_, &raw, flags);
    while (got < 0 && errno == EINTR);
    if (got == pid_)
      status_ = exit_status::from_wait(raw);
    else if (got < 0)
      status_ = exit_status{-1, 0};  // reaped elsewhere: never wait forever
    return status_;
  }
  void reap_now() {
    if (!running()) return;
    signal_group(SIGKILL);
    wait_impl(0);
  }

  pid_t pid_ = -1;
  std::optional<exit_status> status_;
};

namespace detail {

/// Owns the posix_spawn attribute objects for the duration of one spawn.
struct spawn_setup {
  posix_spawn_file_actions_t files{};
  posix_spawnattr_t attr{};
  spawn_setup() {
    posix_spawn_file_actions_init(&files);
    posix_spawnattr_init(&attr);
  }
  ~spawn_setup() {
    posix_spawn_file_actions_destroy(&files);
    posix_spawnattr_destroy(&attr);
  }
  spawn_setup(const spawn_setup&) = delete;
  spawn_setup& operator=(const spawn_setup&) = delete;
};

/// This process's environment with `extra` laid over it, as "KEY=VALUE" strings.
inline std::vector<std::string> merged_environment(
    const std::map<std::string, std::string>& extra) {
  std::vector<std::string> out;
  for (char** e = environ; e && *e; ++e) {
    std::string_view entry(*e);
    if (!extra.contains(std::string(entry.substr(0, entry.find('='))))) out.emplace_back(entry);
  }
  for (const auto& [k, v] : extra) out.push_back(k + "=" + v);
  return out;
}

inline std::vector<char*> c_strings(std::vector<std::string>& strings) {
  std::vector<char*> out;
  for (auto& s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

}  // namespace detail

inline child child::spawn(const spawn_request& request) {
  if (request.argv.empty()) throw std::invalid_argument("[trellis] process: empty argv");
  // Everything is prepared before the spawn: posix_spawn is safe in a threaded parent (LibTorch,
  // Gloo), unlike fork + setenv.
  std::vector<std::string> args = request.argv;
  std::vector<std::string> envs = detail::merged_environment(request.env);
  auto argv = detail::c_strings(args);
  auto envp = detail::c_strings(envs);
  const std::string log = request.log.string();

  detail::spawn_setup s;
  const int log_flags = O_WRONLY | O_CREAT | (request.append_log ? O_APPEND : O_TRUNC);
  posix_spawn_file_actions_addopen(&s.files, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&s.files, 1, log.c_str(), log_flags, 0644);
  posix_spawn_file_actions_adddup2(&s.files, 1, 2);
  // Own process group (so killing the rank kills what it started) and default signal handling
  // (a parent that ignores SIGPIPE or blocks SIGINT must not pass that on).
  sigset_t all, none;
  sigfillset(&all);
  sigemptyset(&none);
  posix_spawnattr_setpgroup(&s.attr, 0);
  posix_spawnattr_setsigdefault(&s.attr, &all);
  posix_spawnattr_setsigmask(&s.attr, &none);
  posix_spawnattr_setflags(&s.attr,
                           POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);

  pid_t pid = -1;
  const bool search = request.argv[0].find('/') == std::string::npos;
  const int rc = search ? posix_spawnp(&pid, argv[0], &s.files, &s.attr, argv.data(), envp.data())
                        : posix_spawn(&pid, argv[0], &s.files, &s.attr, argv.data(), envp.data());
  if (rc != 0)
    throw std::system_error(
        rc, std::generic_category(),
        "[trellis] process: cannot start '" + request.argv[0] + "' (log " + log + ")");
  child c;
  c.pid_ = pid;
  return c;
}

}  // namespace trellis::core::process
