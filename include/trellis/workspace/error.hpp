// The workspace's errors: each message names the file, run, model or version concerned.
#pragma once
#include <stdexcept>

namespace trellis::workspace {

struct workspace_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// The database cannot be opened, read or written.
struct database_error : workspace_error {
  using workspace_error::workspace_error;
};

/// A model or version that does not exist, does not fit, or whose files fail their hashes.
struct registry_error : workspace_error {
  using workspace_error::workspace_error;
};

/// No such model, or no such version of it.
struct model_not_found : registry_error {
  using registry_error::registry_error;
};

}  // namespace trellis::workspace
