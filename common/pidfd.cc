#include "common/pidfd.h"

#include <poll.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <string>

#include "common/proc.h"

namespace prochook {

Result<PinnedProcess> PinProcess(pid_t pid) {
  PinnedProcess p;
  p.pid = pid;
  p.pidfd = UniqueFd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
  if (!p.pidfd.valid()) return Error::Sys("pidfd_open " + std::to_string(pid));
  TRY_ASSIGN(p.start_time, ReadProcessStartTime(pid), "process " + std::to_string(pid));
  if (!PidfdAlive(p.pidfd.get())) return Error::Msg("process " + std::to_string(pid) + " has exited");
  return p;
}

bool PidfdAlive(int pidfd) {
  struct pollfd p = {pidfd, POLLIN, 0};
  return ::poll(&p, 1, 0) == 0;
}

}  // namespace prochook
