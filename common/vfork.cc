#include "common/vfork.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <optional>

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

// The signals with a handler, as the kernel has them (proc(5) SigCgt):
// one read of /proc/self/status instead of a sigaction query per signal,
// 64 system calls at about 4 us each on a VM. Stack only: it runs in the
// child before anything else.
std::optional<uint64_t> CaughtSignals() {
  const int fd = ::open("/proc/self/status", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  char buf[16 << 10];
  size_t len = 0;
  const char* field = nullptr;
  // One read returns the whole file (seq_file); loop only for a short one.
  while (field == nullptr && len < sizeof buf - 1) {
    const ssize_t n = ::read(fd, buf + len, sizeof buf - 1 - len);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    len += static_cast<size_t>(n);
    buf[len] = '\0';
    field = std::strstr(buf, "\nSigCgt:");
    if (field != nullptr && std::strchr(field + 1, '\n') == nullptr) field = nullptr;  // line incomplete
  }
  ::close(fd);
  if (field == nullptr) return std::nullopt;
  char* end = nullptr;
  const uint64_t caught = std::strtoull(field + 8, &end, 16);
  if (end == field + 8) return std::nullopt;
  return caught;
}

bool HasHandler(int sig) {
  struct sigaction current;
  // Fails only for glibc's internal signals (see vfork.h).
  if (::sigaction(sig, nullptr, &current) != 0) return false;
  return current.sa_handler != SIG_DFL && current.sa_handler != SIG_IGN;
}

int Trampoline(void* arg) {
  const auto* child = static_cast<const Child*>(arg);
  // All signals are blocked (RunShared): reset the caller's handlers to
  // the default action before any signal can be delivered. Ignored
  // signals are not in SigCgt and stay ignored.
  struct sigaction dfl = {};
  dfl.sa_handler = SIG_DFL;
  const std::optional<uint64_t> caught = CaughtSignals();
  for (int sig = 1; sig < _NSIG; ++sig) {
    const bool handled = caught ? (*caught >> (sig - 1) & 1) != 0 : HasHandler(sig);
    if (handled) ::sigaction(sig, &dfl, nullptr);
  }
  SetSignalMask(&child->caller_mask, nullptr);
  _exit((*child->fn)());
}

void* MapStack() {
  void* base = ::mmap(nullptr, kGuardSize + kStackSize, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
  if (base != MAP_FAILED && ::mprotect(base, kGuardSize, PROT_NONE) != 0) {
    const int err = errno;
    ::munmap(base, kGuardSize + kStackSize);
    errno = err;
    return MAP_FAILED;
  }
  return base;
}

// The child's stack (the caller's is in use by the suspended caller). One
// is kept for the process's life: mapping one per call would cost three
// system calls and a page fault for every page the child touches. The
// kept one is free whenever clone has returned (the child has exited or
// exec'd); a nested call (a child calling RunShared, as SpawnRenderer's
// does) finds it in use and maps its own. Single-threaded (vfork.h), so a
// plain flag, shared with the children like all memory, is enough.
void* g_kept_stack = MAP_FAILED;
bool g_kept_stack_busy = false;

class ChildStack {
 public:
  ChildStack() : kept_(!g_kept_stack_busy) {
    if (kept_) {
      if (g_kept_stack == MAP_FAILED) g_kept_stack = MapStack();
      base_ = g_kept_stack;
      g_kept_stack_busy = valid();
    } else {
      base_ = MapStack();
    }
  }
  ~ChildStack() {
    if (kept_) {
      g_kept_stack_busy = false;
    } else if (valid()) {
      ::munmap(base_, kGuardSize + kStackSize);
    }
  }
  ChildStack(const ChildStack&) = delete;
  ChildStack& operator=(const ChildStack&) = delete;

  bool valid() const { return base_ != MAP_FAILED; }
  void* top() const { return static_cast<char*>(base_) + kGuardSize + kStackSize; }

 private:
  const bool kept_;
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
  // The child has exited or exec'd: its stack is free again on return.
  errno = pid < 0 ? clone_errno : caller_errno;
  return pid;
}

}  // namespace prochook
