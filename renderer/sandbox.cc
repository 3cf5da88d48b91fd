#include "renderer/sandbox.h"

#include <errno.h>
#include <linux/capability.h>
#include <seccomp.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#include "common/log.h"

namespace prochook {
namespace {

// What the refresh loop, its readers and writer, glibc's allocator and the
// logger call. Names the kernel of the build machine may not know are
// skipped (seccomp_syscall_resolve_name fails).
constexpr const char* kAllowed[] = {
    "read", "write", "pread64", "pwrite64", "readv", "writev", "openat", "open", "close",
    "fstat", "newfstatat", "stat", "lstat", "statx", "lseek", "getdents64", "ftruncate",
    "fcntl", "dup", "dup2", "dup3", "poll", "ppoll", "mmap", "munmap", "mremap", "mprotect", "brk", "madvise",
    "rt_sigprocmask", "rt_sigreturn", "rt_sigaction", "sigaltstack", "exit", "exit_group", "futex",
    "clock_gettime", "clock_nanosleep", "nanosleep", "gettimeofday", "utimensat",
    "getpid", "gettid", "tgkill", "unlink", "unlinkat", "rmdir", "mkdir", "mkdirat",
    "access", "faccessat", "faccessat2", "readlink", "readlinkat", "restart_syscall",
    "sched_yield", "getrandom", "statfs", "fstatfs", "signalfd4", "pidfd_open",
};

#if defined(__x86_64__)
// A denied syscall: log it and make it return -EPERM.
void OnSigsys(int, siginfo_t* info, void* context) {
  auto* uc = static_cast<ucontext_t*>(context);
  uc->uc_mcontext.gregs[REG_RAX] = -EPERM;
  // Only the number: resolving the name allocates, and the denied call may
  // have come from inside malloc. (ausyscall or the kernel's tables map it.)
  LOG_WARN("seccomp: denied syscall %d (returned EPERM)", info->si_syscall);
}
#endif

Result<> DropCapabilities() {
  for (int cap = 0; cap <= CAP_LAST_CAP; ++cap) {
    if (::prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 && errno != EINVAL) {
      return Error::Sys("drop capability " + std::to_string(cap) + " from the bounding set");
    }
  }
  struct __user_cap_header_struct header = {_LINUX_CAPABILITY_VERSION_3, 0};
  struct __user_cap_data_struct data[2] = {};
  if (::syscall(SYS_capset, &header, data) != 0) return Error::Sys("capset");
  return Ok{};
}

}  // namespace

Result<> EnterSandbox() {
  TRY(DropCapabilities(), "sandbox");
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return Error::Sys("no_new_privs");
#if defined(__x86_64__)
  struct sigaction sa = {};
  sa.sa_sigaction = OnSigsys;
  sa.sa_flags = SA_SIGINFO;
  if (::sigaction(SIGSYS, &sa, nullptr) != 0) return Error::Sys("sigaction SIGSYS");
  const uint32_t deny = SCMP_ACT_TRAP;
#else
  const uint32_t deny = SCMP_ACT_ERRNO(EPERM);
#endif
  scmp_filter_ctx ctx = seccomp_init(deny);
  if (ctx == nullptr) return Error::Msg("seccomp_init failed");
  for (const char* name : kAllowed) {
    const int nr = seccomp_syscall_resolve_name(name);
    if (nr == __NR_SCMP_ERROR) continue;
    if (int rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0); rc != 0) {
      seccomp_release(ctx);
      return Error::Msg(std::string("seccomp rule for ") + name + " failed");
    }
  }
  const int rc = seccomp_load(ctx);
  seccomp_release(ctx);
  if (rc != 0) {
    errno = -rc;
    return Error::Sys("seccomp_load");
  }
  return Ok{};
}

}  // namespace prochook
