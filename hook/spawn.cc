#include "hook/spawn.h"

#include <fcntl.h>
#include <linux/close_range.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/fd.h"
#include "common/io.h"
#include "renderer/own_cgroup.h"

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
  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0) return Error::Sys("pipe");
  UniqueFd rd(p[0]), wr(p[1]);

  pid_t child = ::fork();
  if (child < 0) return Error::Sys("fork");
  if (child == 0) {
    // Intermediate: new session so no terminal signal reaches the renderer,
    // then exit so the renderer is reparented away from the runtime.
    ::setsid();
    // Join the renderers' cgroup here, so the renderer is born in it and is
    // there by the time the hook returns.
    JoinRendererCgroup();
    pid_t renderer = ::fork();
    if (renderer == 0) ExecRenderer(state_dir);
    (void)!::write(wr.get(), &renderer, sizeof renderer);
    _exit(renderer < 0 ? 1 : 0);
  }
  wr.reset();
  pid_t renderer = -1;
  ssize_t n = ::read(rd.get(), &renderer, sizeof renderer);
  int status = 0;
  while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
  if (n != sizeof renderer || renderer <= 0) return Error::Msg("fork of the renderer failed");
  return renderer;
}

}  // namespace prochook
