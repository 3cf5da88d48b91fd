// The runtime wrapper's sysinfo step for create and run: before the
// runtime reads config.json, trap sysinfo(2) in it (oci/seccomp_edit.h)
// and start the container's agent to answer, in that container's state
// directory. Fail-open: whatever goes wrong, the container starts with the
// config it had (no notify rule without a listening agent) and the reason
// is logged.
#pragma once

#include <string>

namespace prochook {

// bundle as the runtime's command line gives it; id the container's.
// run_dir: where the hook keeps state (its default, /run/prochook).
void SetUpSysinfo(const std::string& run_dir, const std::string& id, const std::string& bundle);

}  // namespace prochook
