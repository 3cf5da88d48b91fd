#include "common/spawn.h"

#include <fcntl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/vfork.h"

namespace prochook {
namespace {

// In the grandchild, which shares the caller's memory until execv (see
// common/vfork.h): argv is built before the clone.
[[noreturn]] void ExecDetached(const char* program, const std::vector<char*>& argv, int pass_fd) {
  int devnull = ::open("/dev/null", O_RDWR);
  if (devnull < 0) _exit(127);
  // pass_fd first: it may be one of 0-2 or kPassedFd itself.
  if (pass_fd >= 0) {
    int moved = ::fcntl(pass_fd, F_DUPFD, kPassedFd + 1);
    if (moved < 0 || ::dup2(moved, kPassedFd) < 0) _exit(127);
  }
  for (int fd = 0; fd < 3; ++fd) {
    if (::dup2(devnull, fd) < 0) _exit(127);
  }
  ::syscall(SYS_close_range, pass_fd >= 0 ? kPassedFd + 1 : 3, ~0U, 0);
  ::execv(program, argv.data());
  _exit(127);
}

}  // namespace

Result<pid_t> SpawnDetached(const std::vector<std::string>& args, int pass_fd, const std::string& program) {
  std::vector<char*> argv = {const_cast<char*>("prochook")};
  for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  // Both children share our memory until they exit or exec (no page table
  // copies: see common/vfork.h), so the pid is written straight into `pid`.
  pid_t pid = -1;
  pid_t child = RunShared([&] {
    // Intermediate: new session so no terminal signal reaches the process,
    // then exit so it is reparented away from the runtime.
    ::setsid();
    pid = RunShared([&]() -> int { ExecDetached(program.c_str(), argv, pass_fd); });
    return pid < 0 ? 1 : 0;
  });
  if (child < 0) return Error::Sys("clone");
  int status = 0;
  while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
  if (pid <= 0) return Error::Msg("starting " + (args.empty() ? std::string("prochook") : args[0]) + " failed");
  return pid;
}

}  // namespace prochook
