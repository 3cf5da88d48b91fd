// A process pinned by a pidfd, so that what is learned about it by pid and
// what is done to it later concern the same process, even if its pid is
// reused meanwhile.
#pragma once

#include <sys/types.h>

#include <cstdint>

#include "common/fd.h"
#include "common/result.h"

namespace prochook {

struct PinnedProcess {
  pid_t pid = 0;
  UniqueFd pidfd;
  uint64_t start_time = 0;  // proc(5) stat field 22, read after pidfd_open
};

// pidfd_open(pid), then its start time from /proc/<pid>/stat, then a check
// that the pidfd's process has not exited. A pid is freed only once its
// process is reaped, so a process still alive after the read held the pid
// throughout: the start time is its own. Fails if it exited.
Result<PinnedProcess> PinProcess(pid_t pid);

// Whether the pidfd's process has not exited (a pidfd polls readable once
// it has, zombie or reaped: pidfd_open(2)).
bool PidfdAlive(int pidfd);

}  // namespace prochook
