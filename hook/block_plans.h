// The mount of one block device's rendered stat file (sys-block/<name> in
// the state directory) over its sysfs file in the container. The device's
// entry lives under /sys/devices (/sys/block/<disk>, /sys/class/block/<name>
// and /sys/dev/block/<maj:min> are symlinks into it), so one mount on the
// real file serves every path a tool may take to it.
#pragma once

#include <optional>
#include <string>

#include "common/result.h"
#include "hook/inject.h"

namespace prochook {

// The state subdirectory of the rendered stat files.
inline constexpr char kSysBlockDir[] = "sys-block";

// The plan for device `name`: its stat file's path below /sys/devices as
// the host's <sys_root>/class/block/<name> links to it, as a target
// relative to the rootfs ("sys/devices/.../block/vda/stat"), required to be
// a sysfs file, skipped if the container has no such file (no sysfs at
// /sys, or the device gone by then: one device is not worth the others'
// files). nullopt when the host no longer has the device; an error
// when the link is not "../../devices/<path>" (no "." or ".." in path).
Result<std::optional<MountPlan>> PlanBlockStat(const std::string& state_dir, const std::string& name,
                                               const std::string& sys_root = "/sys");

}  // namespace prochook
