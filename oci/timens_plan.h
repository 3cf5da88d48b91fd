// Whether the runtime wrapper gives a container a clock of its own: a time
// namespace whose CLOCK_BOOTTIME starts with the container, so /proc/uptime,
// btime, sysinfo's uptime and every process start time inside count from
// its creation and ps stays right (common/timens.h). Only a container with
// a pid namespace of its own gets a new one: where processes of two clocks
// would share one ps (the host's pid namespace) it keeps the host's, and a
// container joining another's pid namespace (a pod's shared one, Docker's
// --pid container:X) joins that process's clock.
#pragma once

#include <sys/types.h>

#include <string>

#include "oci/config.h"
#include "oci/options.h"

namespace prochook {

struct TimeNamespacePlan {
  enum class Kind { kNone, kNew, kJoin };
  Kind kind = Kind::kNone;
  pid_t join_pid = 0;  // kJoin: the process whose time namespace to use
  std::string why;     // for the log
};

// Pure.
TimeNamespacePlan PlanTimeNamespace(const OciConfig& config, const Options& options);

}  // namespace prochook
