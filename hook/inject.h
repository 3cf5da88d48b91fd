// Bind-mounts rendered files over their targets inside a container's mount
// namespace, safely.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "common/result.h"

namespace prochook {

struct MountPlan {
  std::string source;         // host path of the rendered file
  std::string target;         // path relative to the rootfs, e.g. "proc/meminfo"
  unsigned long fs_magic = 0; // the filesystem the target must be on (statfs(2))
};

// For each plan: clone the source as a detached read-only, nosuid, nodev,
// noexec bind mount (open_tree), then, in a forked single-threaded child
// that entered the mount namespace of `pid`, resolve the target inside
// `rootfs` without following any symlink (openat2 RESOLVE_IN_ROOT |
// RESOLVE_NO_SYMLINKS), require a regular file on `fs_magic` whose mount
// does not propagate (not shared, so nothing can leak to the host), and
// attach through the fd (move_mount). Either every plan is applied or the
// error of the first refusal is returned; mounts already made stay (the
// container's namespace dies with it).
Result<> ApplyMounts(pid_t pid, const std::string& rootfs, const std::vector<MountPlan>& plans);

}  // namespace prochook
