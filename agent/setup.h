// The runtime wrapper's sysinfo step for create and run: before the
// runtime reads config.json, trap sysinfo(2) in it (oci/seccomp_edit.h)
// and start the container's agent to answer, in that container's state
// directory. Fail-open: whatever goes wrong, the container starts with the
// config it had (no notify rule without a listening agent) and the reason
// is logged.
#pragma once

#include <string>

#include "common/fd.h"
#include "common/result.h"
#include "common/spawn.h"

namespace prochook {

// bundle as the runtime's command line gives it; id the container's.
// run_dir: where the hook keeps state (its default, /run/prochook).
void SetUpSysinfo(const std::string& run_dir, const std::string& id, const std::string& bundle);

// The state directory dir (in run_dir, which gets the store first) made
// and `program agent --state-dir dir` listening in it, on
// dir/kAgentSocketFile; or an error with neither left behind. A directory
// that exists already is an error (it is another container's), as is a
// socket path too long for a unix socket address. The agent is returned
// as a pidfd.
Result<UniqueFd> PrepareAgent(const std::string& run_dir, const std::string& dir,
                              const std::string& program = kSelfExe);

}  // namespace prochook
