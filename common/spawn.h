// Starting one of prochook's per-container processes (renderer, agent)
// from a process the runtime waits on (the hook, the runtime wrapper), or
// from the NRI plugin (which runs another binary: the prochook it names).
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "common/result.h"

namespace prochook {

// The binary SpawnDetached runs unless told: the caller's own.
inline constexpr char kSelfExe[] = "/proc/self/exe";

// Double-forks `<program> args...` (argv[0] "prochook") into its own session with
// stdin/stdout/stderr on /dev/null and no other fd inherited but
// `pass_fd` (as fd 3, when >= 0): runc and the engines' shims wait until
// every holder of their stdout/stderr pipes is gone. Returns its pid.
Result<pid_t> SpawnDetached(const std::vector<std::string>& args, int pass_fd = -1,
                            const std::string& program = kSelfExe);

// The fd a process started by SpawnDetached finds pass_fd at.
inline constexpr int kPassedFd = 3;

}  // namespace prochook
