// Bind-mounts rendered files over their targets inside a container's mount
// namespace, safely.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "common/result.h"

namespace prochook {

struct MountPlan {
  std::string source;         // host path of the rendered file or directory
  std::string target;         // path relative to the rootfs, e.g. "proc/meminfo"
  unsigned long fs_magic = 0; // the filesystem the target must be on (statfs(2))
  bool directory = false;     // the target is a directory (else a regular file)
  // Entries of the original target directory that stay visible: each
  // {from, to} binds original/<from> onto <to> in the mounted source (which
  // must hold an empty file or directory named <to>). Single path
  // components only, e.g. {"cpu2", "cpu0"} under /sys/devices/system/cpu.
  std::vector<std::pair<std::string, std::string>> keep = {};
  // A target that does not exist in the container is skipped, not refused
  // (a block device removed since it was planned); one that exists is
  // checked like any other.
  bool skip_if_missing = false;
};

// For each plan: clone the source as a detached read-only, nosuid, nodev,
// noexec bind mount (open_tree), then, in a forked single-threaded child
// that entered the mount namespace of `pid`, resolve the target inside
// `rootfs` without following any symlink (openat2 RESOLVE_IN_ROOT |
// RESOLVE_NO_SYMLINKS), require a regular file (or directory) on
// `fs_magic` whose mount does not propagate (not shared, so nothing can leak
// to the host), and attach through the fd (move_mount). From then on only
// fds name the mounts made (a path could meet a mount made over it
// meanwhile), and entries to keep are taken from, and put on, the entry on
// its own directory's mount, never one mounted over it. Every plan is
// applied, or none: after a refusal the mounts already made are detached
// again and the error names the refusal.
//
// The namespace is that of the process `init_pidfd` names (setns on a
// pidfd, Linux 5.8): never of another process that got its pid meanwhile;
// a pidfd of a process that has exited is refused.
//
// *mounts_may_remain tells the caller what it must keep serving: true
// after success, and after a failure whose rollback could not detach every
// mount made (an umount failed; or the helper died, and then nothing is
// known); false when nothing of ours is mounted in the container. On
// success, the number of plans attached (those skipped not counted).
Result<size_t> ApplyMounts(int init_pidfd, const std::string& rootfs, const std::vector<MountPlan>& plans,
                           bool* mounts_may_remain);

}  // namespace prochook
