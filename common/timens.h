// Time namespaces (time_namespaces(7)): a container with a CLOCK_BOOTTIME
// offset of its own sees its own uptime in /proc/uptime, the btime line of
// /proc/stat, sysinfo(2) and every process's start time in /proc/<pid>/stat.
// The kernel shifts those start times by the offset of the *reader's* time
// namespace, and a process that started before that clock's zero shows a
// nonsense figure (the shifted value wraps below zero): so prochook reads
// in the host's clock. Its processes that a runtime starts in a container's
// clock (the hooks) first move to one with no offset (EnterHostClock), and
// where they render what the container sees (btime) they add the
// container's offset themselves.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string_view>

#include "common/result.h"

namespace prochook {

struct ClockOffset {
  int64_t sec = 0;
  int64_t nsec = 0;  // 0..999999999, as the kernel keeps it
  bool operator==(const ClockOffset&) const = default;
};

// Pure. The boottime line of /proc/<pid>/timens_offsets ("boottime S N", or
// "7 S N" on kernels that print clock ids); zero when there is none.
ClockOffset ParseBoottimeOffset(std::string_view text);

// The boottime offset of the time namespace pid's children are created in
// (pid 0: this process). For a process that did not unshare a time
// namespace without exec'ing since, that is its own. Zero on a kernel
// without time namespaces.
ClockOffset BoottimeOffset(pid_t pid = 0);

// This process's own boottime offset (BoottimeOffset(0)), read once and
// read again only after one of the functions here moved the process.
ClockOffset OwnBoottimeOffset();

// Pure. The offset in clock ticks (proc(5) starttime units), exact for
// offsets in whole 1/ticks_per_second steps (prochook writes whole seconds).
int64_t OffsetTicks(ClockOffset offset, int64_t ticks_per_second);

// Makes this process (single-threaded: setns(2)) use the time namespace of
// the process pidfd names, unless it already does; true if it moved. For
// the runtime wrapper only, which then execs the runtime.
Result<bool> JoinTimeNamespace(int pidfd, pid_t pid);

// Moves this process (single-threaded: setns(2)) to a time namespace with
// no offsets, the host's clock, unless its clock has none already: a new
// namespace (offsets are against the host's clock, whatever the parent's)
// set to zero and joined before any process is in it. true if it moved.
Result<bool> EnterHostClock();

// Creates a time namespace whose CLOCK_BOOTTIME starts now (offset minus
// the whole seconds of the host's boottime) and moves this process
// (single-threaded) and so its children into it. Returns the offset.
Result<ClockOffset> UnshareTimeNamespaceFromNow();

}  // namespace prochook
