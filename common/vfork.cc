#include "common/vfork.h"

#include <sched.h>
#include <signal.h>
#include <unistd.h>

#include <memory>

namespace prochook {
namespace {

int Trampoline(void* arg) {
  _exit((*static_cast<const std::function<int()>*>(arg))());
}

}  // namespace

pid_t RunShared(const std::function<int()>& fn) {
  // The child's stack: the caller's is in use by the suspended caller.
  constexpr size_t kStackSize = 256 << 10;
  // Not value-initialized: zeroing it would fault in all 64 pages (about
  // a millisecond on a VM); the child touches the few it uses.
  std::unique_ptr<char[]> stack(new char[kStackSize]);
  return ::clone(Trampoline, stack.get() + kStackSize, CLONE_VM | CLONE_VFORK | SIGCHLD,
                 const_cast<std::function<int()>*>(&fn));
}

}  // namespace prochook
