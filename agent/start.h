// Starting a container's sysinfo agent from the runtime wrapper.
#pragma once

#include <string>

#include "common/fd.h"
#include "common/result.h"

namespace prochook {

// Spawns `prochook agent --state-dir DIR` detached (common/spawn.h) and
// waits until its socket listens, at most timeout_ms. The agent is
// returned as a pidfd; on failure it has been killed.
Result<UniqueFd> StartAgent(const std::string& state_dir, int timeout_ms = 3000);

// SIGKILLs the agent (a configuration that cannot be written after all).
void KillAgent(int pidfd);

}  // namespace prochook
