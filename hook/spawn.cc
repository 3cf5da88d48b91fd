#include "hook/spawn.h"

#include <fcntl.h>
#include <linux/close_range.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/fd.h"
#include "common/io.h"
#include "common/vfork.h"

namespace prochook {
namespace {

[[noreturn]] void ExecRenderer(const std::string& state_dir) {
  int devnull = ::open("/dev/null", O_RDWR);
  if (devnull < 0) _exit(127);
  for (int fd = 0; fd < 3; ++fd) {
    if (::dup2(devnull, fd) < 0) _exit(127);
  }
  ::syscall(SYS_close_range, 3, ~0U, 0);
  const char* argv[] = {"prochook", "render", "--state-dir", state_dir.c_str(), nullptr};
  ::execv("/proc/self/exe", const_cast<char* const*>(argv));
  _exit(127);
}

}  // namespace

Result<pid_t> SpawnRenderer(const std::string& state_dir) {
  // Both children share our memory until they exit or exec (no page table
  // copies: see common/vfork.h), so the renderer's pid is written straight
  // into `renderer`.
  pid_t renderer = -1;
  pid_t child = RunShared([&] {
    // Intermediate: new session so no terminal signal reaches the renderer,
    // then exit so the renderer is reparented away from the runtime.
    ::setsid();
    renderer = RunShared([&]() -> int { ExecRenderer(state_dir); });
    return renderer < 0 ? 1 : 0;
  });
  if (child < 0) return Error::Sys("clone");
  int status = 0;
  while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
  if (renderer <= 0) return Error::Msg("starting the renderer failed");
  return renderer;
}

}  // namespace prochook
