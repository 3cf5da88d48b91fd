// The renderer's least privilege, entered once it has opened what it needs
// at start. It reads /proc and cgroup files (world-readable) and rewrites
// its own files (owned by root, mode 0644), so it keeps no capability:
//  - every capability dropped, from the bounding set too;
//  - no_new_privs: nothing it could exec gains privileges;
//  - a seccomp allowlist of the syscalls it makes; any other syscall fails
//    with EPERM and is logged (x86-64: SIGSYS handler; elsewhere EPERM only).
#pragma once

#include "common/result.h"

namespace prochook {

Result<> EnterSandbox();

}  // namespace prochook
