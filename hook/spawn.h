// Starts the renderer for a container as a detached process.
#pragma once

#include <sys/types.h>

#include <string>

#include "common/result.h"

namespace prochook {

// Double-forks `<this binary> render --state-dir DIR` into its own session
// with stdin/stdout/stderr on /dev/null and no other fd inherited: runc
// waits until every holder of the hook's stdout/stderr pipes is gone.
// Returns the renderer's pid.
Result<pid_t> SpawnRenderer(const std::string& state_dir);

}  // namespace prochook
