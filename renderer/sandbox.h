// The renderer's least privilege, entered once it has opened what it needs
// at start. It stays uid 0 (its files are root's), so privilege is taken
// away by other means:
//  - every capability dropped, from the bounding set too;
//  - no_new_privs: nothing it could exec gains privileges;
//  - Landlock (renderer/landlock.h): it reads /proc, /sys and its cgroup
//    hierarchies, and writes, creates and removes only in its own state
//    directory; removing that directory at exit needs REMOVE_DIR on the
//    run directory, which lets it remove any *empty* directory under the
//    run directory as well (see README, Threat model), nothing more;
//  - a seccomp allowlist of the syscalls it makes, with argument filters:
//    signals only to itself (tgkill with its own pid: glibc's raise and
//    abort), no executable memory, utimensat only on a descriptor; no
//    socket, kill, exec, ptrace, mount.
//    A denied syscall fails with EPERM and is counted (x86-64: SIGSYS
//    handler; elsewhere EPERM only), logged by LogDeniedSyscalls.
// Capabilities, no_new_privs and seccomp are mandatory: EnterSandbox fails
// and the renderer must exit. Landlock is not, because Debian 12's own
// kernel may boot without it: then the renderer runs "unsandboxed" in a
// way operators see (kUnsandboxedFile in its state directory, `prochook
// ps`), and seccomp still keeps it from signalling other processes.
#pragma once

#include <initializer_list>
#include <string>

#include "common/result.h"
#include "renderer/landlock.h"
#include "state/record.h"

namespace prochook {

// Pure. What the renderer of this container may touch: reads in /proc,
// /sys and every cgroup hierarchy of the record (they may be mounted
// elsewhere than /sys/fs/cgroup), everything in state_dir, removing empty
// directories in its parent.
LandlockPolicy RendererPolicy(const std::string& state_dir, const ContainerRecord& record);

// Enters the sandbox for good. landlock is what the kernel offers
// (ProbeLandlock); with abi 0 it writes <state_dir>/kUnsandboxedFile with
// the reason instead (and fails if it cannot: unsandboxed must be seen).
Result<> EnterSandbox(const std::string& state_dir, const LandlockPolicy& policy,
                      const LandlockSupport& landlock);

// The read gate's sandbox (renderer/read_gate.h): no capability,
// no_new_privs, and a seccomp allowlist without any open, exec, signal to
// others or path lookup (fanotify_mark only through a descriptor). No
// Landlock: the kernel opens each reader's file for the gate through the
// reader's own mounts (the container's), and Landlock, which follows the
// path, would refuse it, so the kernel would refuse the read.
Result<> EnterGateSandbox();

// Drops every capability but `keep` (effective and permitted; the
// bounding set too), for good. The renderer keeps none; the sysinfo agent
// keeps what writing a caller's memory takes.
Result<> DropCapabilities(std::initializer_list<int> keep = {});

// Logs the syscalls seccomp denied since the last call, if any. The SIGSYS
// handler only counts them: formatting a line there is not
// async-signal-safe (the denied call may come from inside malloc).
void LogDeniedSyscalls();

}  // namespace prochook
