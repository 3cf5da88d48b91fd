#include "common/vfork.h"

#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace prochook {
namespace {

constexpr size_t kStackSize = 256 << 10;
// More than a page, so that a frame with a large local array cannot step
// over it; it costs address space, no memory.
constexpr size_t kGuardSize = 64 << 10;

// The kernel's signal mask (64 signals on Linux): the raw call, because
// glibc's sigprocmask leaves its own internal signals unblocked.
constexpr size_t kKernelSigsetSize = _NSIG / 8;
void SetSignalMask(const sigset_t* mask, sigset_t* old) {
  ::syscall(SYS_rt_sigprocmask, SIG_SETMASK, mask, old, kKernelSigsetSize);
}

struct Child {
  const std::function<int()>* fn;
  sigset_t caller_mask;
};

int Trampoline(void* arg) {
  const auto* child = static_cast<const Child*>(arg);
  // All signals are blocked (RunShared): reset the caller's handlers to
  // the default action before any signal can be delivered.
  struct sigaction dfl = {};
  dfl.sa_handler = SIG_DFL;
  for (int sig = 1; sig < _NSIG; ++sig) {
    struct sigaction current;
    // Fails only for glibc's internal signals (see vfork.h).
    if (::sigaction(sig, nullptr, &current) != 0) continue;
    if (current.sa_handler != SIG_DFL && current.sa_handler != SIG_IGN) ::sigaction(sig, &dfl, nullptr);
  }
  SetSignalMask(&child->caller_mask, nullptr);
  _exit((*child->fn)());
}

// The child's stack: the caller's is in use by the suspended caller. Pages
// are faulted in as the child touches them (zeroing 256 KiB up front would
// cost about a millisecond on a VM).
class ChildStack {
 public:
  ChildStack()
      : base_(::mmap(nullptr, kGuardSize + kStackSize, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0)) {
    if (base_ != MAP_FAILED && ::mprotect(base_, kGuardSize, PROT_NONE) != 0) {
      const int err = errno;
      ::munmap(base_, kGuardSize + kStackSize);
      base_ = MAP_FAILED;
      errno = err;
    }
  }
  ~ChildStack() {
    if (valid()) ::munmap(base_, kGuardSize + kStackSize);
  }
  ChildStack(const ChildStack&) = delete;
  ChildStack& operator=(const ChildStack&) = delete;

  bool valid() const { return base_ != MAP_FAILED; }
  void* top() const { return static_cast<char*>(base_) + kGuardSize + kStackSize; }

 private:
  void* base_;
};

}  // namespace

pid_t RunShared(const std::function<int()>& fn) {
  const int caller_errno = errno;
  ChildStack stack;
  if (!stack.valid()) return -1;
  Child child = {&fn, {}};
  sigset_t all;
  std::memset(&all, 0xff, sizeof all);
  SetSignalMask(&all, &child.caller_mask);
  const pid_t pid = ::clone(Trampoline, stack.top(), CLONE_VM | CLONE_VFORK | SIGCHLD, &child);
  const int clone_errno = errno;
  SetSignalMask(&child.caller_mask, nullptr);
  // The child has exited or exec'd: its stack is unmapped on return.
  errno = pid < 0 ? clone_errno : caller_errno;
  return pid;
}

}  // namespace prochook
