#include "agent/start.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/spawn.h"

namespace prochook {

void KillAgent(int pidfd) { ::syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, nullptr, 0); }

Result<UniqueFd> StartAgent(const std::string& state_dir, int timeout_ms) {
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) return Error::Sys("pipe");
  UniqueFd ready(pipe_fds[0]);
  UniqueFd ready_w(pipe_fds[1]);
  TRY_ASSIGN(pid_t pid,
             SpawnDetached({"agent", "--state-dir", state_dir, "--ready-fd", std::to_string(kPassedFd)},
                           ready_w.get()),
             "starting the agent");
  // The agent is not our child (double fork): a pidfd names it.
  UniqueFd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
  if (!pidfd.valid()) return Error::Sys("pidfd_open of the agent");
  ready_w.reset();  // so its exit reads as end of file
  struct pollfd p = {ready.get(), POLLIN, 0};
  char byte = 0;
  if (::poll(&p, 1, timeout_ms) == 1 && ::read(ready.get(), &byte, 1) == 1) return pidfd;
  KillAgent(pidfd.get());
  return Error::Msg("the agent did not come up (see renderer.log in " + state_dir + ")");
}

}  // namespace prochook
