#include "agent/start.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/spawn.h"

namespace prochook {

void KillStarted(int pidfd) { ::syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, nullptr, 0); }

void SignalReady(int ready_fd) {
  if (ready_fd < 0) return;
  (void)!::write(ready_fd, "1", 1);
  ::close(ready_fd);
}

Result<UniqueFd> StartAndAwait(std::vector<std::string> args, int timeout_ms, const std::string& program) {
  const std::string what = "prochook " + args.at(0);
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) return Error::Sys("pipe");
  UniqueFd ready(pipe_fds[0]);
  UniqueFd ready_w(pipe_fds[1]);
  args.push_back("--ready-fd");
  args.push_back(std::to_string(kPassedFd));
  TRY_ASSIGN(pid_t pid, SpawnDetached(args, ready_w.get(), program), "starting " + what);
  // Not our child (double fork): a pidfd names it.
  UniqueFd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
  if (!pidfd.valid()) return Error::Sys("pidfd_open of " + what);
  ready_w.reset();  // so its exit reads as end of file
  struct pollfd p = {ready.get(), POLLIN, 0};
  char byte = 0;
  if (::poll(&p, 1, timeout_ms) == 1 && ::read(ready.get(), &byte, 1) == 1) return pidfd;
  KillStarted(pidfd.get());
  return Error::Msg(what + " did not come up (see renderer.log in its state directory)");
}

Result<UniqueFd> StartAgent(const std::string& state_dir, const std::string& program) {
  return StartAndAwait({"agent", "--state-dir", state_dir}, kReadyTimeoutMs, program);
}

Result<UniqueFd> StartHolder(const std::string& state_dir) { return StartAndAwait({"hold", "--state-dir", state_dir}); }

}  // namespace prochook
