// exit_status: how a child process ended (exit code or signal), decoded from waitpid's status
// word, with a one-line description for logs and error reports.
#pragma once
#include <sys/wait.h>

#include <cstring>
#include <string>

namespace trellis::core::process {

struct exit_status {
  int code = 0;    ///< exit code when the process exited, else 0
  int signal = 0;  ///< the signal that ended it, else 0

  static exit_status from_wait(int status) {
    if (WIFSIGNALED(status)) return {0, WTERMSIG(status)};
    return {WIFEXITED(status) ? WEXITSTATUS(status) : 0, 0};
  }
  bool success() const { return code == 0 && signal == 0; }
  bool signaled() const { return signal != 0; }

  /// "exited with code 3" or "killed by signal 9 (Killed)".
  std::string describe() const {
    if (signal != 0)
      return "killed by signal " + std::to_string(signal) + " (" + ::strsignal(signal) + ")";
    return "exited with code " + std::to_string(code);
  }
};

}  // namespace trellis::core::process
