// Starting a container's sysinfo agent (from the runtime wrapper, the NRI
// plugin and repair) and the holder of its notify fds (from the agent).
#pragma once

#include <string>
#include <vector>

#include "common/fd.h"
#include "common/result.h"
#include "common/spawn.h"

namespace prochook {

// Spawns `prochook args... --ready-fd N` detached (common/spawn.h: program
// is the prochook binary, the caller's own unless told) and
// waits until it says it is ready (SignalReady), at most timeout_ms. The
// process is returned as a pidfd; on failure it has been killed.
inline constexpr int kReadyTimeoutMs = 3000;
Result<UniqueFd> StartAndAwait(std::vector<std::string> args, int timeout_ms = kReadyTimeoutMs,
                               const std::string& program = kSelfExe);
// Writes the one byte StartAndAwait waits for, and closes ready_fd (-1: none).
void SignalReady(int ready_fd);

// `prochook agent --state-dir DIR`, ready once its socket listens.
Result<UniqueFd> StartAgent(const std::string& state_dir, const std::string& program = kSelfExe);
// `prochook hold --state-dir DIR`, ready once its socket listens.
Result<UniqueFd> StartHolder(const std::string& state_dir);

// SIGKILLs a process started so (a configuration that cannot be written
// after all).
void KillStarted(int pidfd);

}  // namespace prochook
