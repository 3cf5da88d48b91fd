#include "renderer/sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <seccomp.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <set>
#include <vector>

#include "common/io.h"
#include "common/log.h"

namespace prochook {
namespace {

// What the refresh loop, its readers and writer, glibc's allocator and the
// logger call. Names the kernel of the build machine may not know are
// skipped (seccomp_syscall_resolve_name fails). Calls that take an
// argument filter (tgkill, mmap, mprotect, utimensat) are in AddRules.
constexpr const char* kAllowed[] = {
    "read", "write", "pread64", "pwrite64", "readv", "writev", "openat", "open", "close",
    "fstat", "newfstatat", "stat", "lstat", "statx", "lseek", "getdents64", "ftruncate",
    "fcntl", "dup", "dup2", "dup3", "poll", "ppoll", "munmap", "mremap", "brk", "madvise",
    "rt_sigprocmask", "rt_sigreturn", "rt_sigaction", "sigaltstack", "exit", "exit_group", "futex",
    "clock_gettime", "clock_nanosleep", "nanosleep", "gettimeofday",
    "getpid", "gettid", "unlink", "unlinkat", "rmdir", "mkdir", "mkdirat",
    "access", "faccessat", "faccessat2", "readlink", "readlinkat", "restart_syscall",
    "sched_yield", "getrandom", "statfs", "fstatfs", "signalfd4", "pidfd_open",
};

// What the read gate calls (renderer/read_gate.h): its pipes, its group,
// the logger and the allocator. No open of any kind: the only files it
// ever holds are those the kernel opens for its events. fanotify_mark is in
// AddGateRules.
constexpr const char* kGateAllowed[] = {
    "read", "write", "close", "poll", "ppoll", "clock_gettime", "gettimeofday", "getpid", "gettid",
    "brk", "munmap", "mremap", "madvise", "futex", "rt_sigreturn", "rt_sigprocmask", "restart_syscall",
    "exit", "exit_group",
};

// Denied calls since the last LogDeniedSyscalls, and the last one's number:
// lock-free, so the SIGSYS handler may update them.
std::atomic<uint64_t> g_denied_count{0};
std::atomic<int> g_denied_last{-1};
static_assert(std::atomic<uint64_t>::is_always_lock_free && std::atomic<int>::is_always_lock_free,
              "updated from a signal handler");

#if defined(__x86_64__)
// A denied syscall: make it return -EPERM and count it. Nothing else here:
// the call may have come from inside malloc or the logger.
void OnSigsys(int, siginfo_t* info, void* context) {
  auto* uc = static_cast<ucontext_t*>(context);
  uc->uc_mcontext.gregs[REG_RAX] = -EPERM;
  g_denied_last.store(info->si_syscall, std::memory_order_relaxed);
  g_denied_count.fetch_add(1, std::memory_order_relaxed);
}
#endif

// Allows `name` when every comparison holds (none: always).
Result<> Allow(scmp_filter_ctx ctx, const char* name, const std::vector<scmp_arg_cmp>& args = {}) {
  const int nr = seccomp_syscall_resolve_name(name);
  if (nr == __NR_SCMP_ERROR) return Ok{};
  const int rc = seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW, nr, static_cast<unsigned>(args.size()),
                                        args.empty() ? nullptr : args.data());
  if (rc != 0) return Error(-rc, std::string("seccomp rule for ") + name);
  return Ok{};
}

// Rules both processes share: signals only to this process (glibc's raise
// and abort send tgkill(getpid(), gettid(), sig); as uid 0 without
// capabilities it could otherwise signal every uid-0 process; kill, tkill
// and pidfd_send_signal stay denied), and no executable memory (a static
// binary that loads nothing needs none, and data an attacker planted can
// never be made executable).
Result<> AddCommonRules(scmp_filter_ctx ctx) {
  TRY(Allow(ctx, "tgkill", {SCMP_A0(SCMP_CMP_EQ, static_cast<scmp_datum_t>(::getpid()))}), "seccomp");
  for (const char* name : {"mmap", "mprotect"}) {
    TRY(Allow(ctx, name, {SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0)}), "seccomp");
  }
  return Ok{};
}

Result<> AddRules(scmp_filter_ctx ctx) {
  for (const char* name : kAllowed) TRY(Allow(ctx, name), "seccomp");
  TRY(AddCommonRules(ctx), "seccomp");
  // Timestamps only through a descriptor (futimens of the state directory,
  // which says when it last refreshed): Landlock does not govern utimes.
  TRY(Allow(ctx, "utimensat", {SCMP_A1(SCMP_CMP_EQ, 0)}), "seccomp");
  return Ok{};
}

Result<> AddGateRules(scmp_filter_ctx ctx) {
  for (const char* name : kGateAllowed) TRY(Allow(ctx, name), "seccomp");
  TRY(AddCommonRules(ctx), "seccomp");
  // Marks through a descriptor only (pathname NULL): no path lookup, so it
  // can mark nothing but the files the renderer gave it.
  TRY(Allow(ctx, "fanotify_mark", {SCMP_A4(SCMP_CMP_EQ, 0)}), "seccomp");
  return Ok{};
}

Result<> ApplySeccomp(Result<> (*add_rules)(scmp_filter_ctx)) {
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
  Result<> added = add_rules(ctx);
  const int rc = added ? seccomp_load(ctx) : 0;
  seccomp_release(ctx);
  if (!added) return added;
  if (rc != 0) return Error(-rc, "seccomp_load");
  return Ok{};
}

std::string ParentDir(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

}  // namespace

Result<> DropCapabilities(std::initializer_list<int> keep) {
  const auto kept = [&](int cap) { return std::find(keep.begin(), keep.end(), cap) != keep.end(); };
  for (int cap = 0; cap <= CAP_LAST_CAP; ++cap) {
    if (kept(cap)) continue;
    if (::prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 && errno != EINVAL) {
      return Error::Sys("drop capability " + std::to_string(cap) + " from the bounding set");
    }
  }
  struct __user_cap_header_struct header = {_LINUX_CAPABILITY_VERSION_3, 0};
  struct __user_cap_data_struct data[2] = {};
  for (int cap : keep) {
    data[cap / 32].effective |= 1u << (cap % 32);
    data[cap / 32].permitted |= 1u << (cap % 32);
  }
  if (::syscall(SYS_capset, &header, data) != 0) return Error::Sys("capset");
  return Ok{};
}

LandlockPolicy RendererPolicy(const std::string& state_dir, const ContainerRecord& record) {
  LandlockPolicy policy;
  policy.read = {"/proc", "/sys"};
  std::set<std::string> mounts;
  for (const auto& [controller, cg] : record.cgroups) {
    if (cg.present() && !cg.mount.empty()) mounts.insert(cg.mount);
  }
  policy.read.insert(policy.read.end(), mounts.begin(), mounts.end());
  policy.own = {state_dir};
  // rmdir of the state directory itself, the renderer's last act.
  policy.remove_dir = {ParentDir(state_dir)};
  return policy;
}

Result<> EnterSandbox(const std::string& state_dir, const LandlockPolicy& policy,
                      const LandlockSupport& landlock) {
  TRY(DropCapabilities(), "sandbox");
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return Error::Sys("sandbox: no_new_privs");
  const std::string marker = state_dir + "/" + kUnsandboxedFile;
  if (landlock.abi > 0) {
    // A marker an earlier renderer left on this directory is no longer true.
    if (::unlink(marker.c_str()) != 0 && errno != ENOENT) return Error::Sys("sandbox: unlink " + marker);
    TRY(ApplyLandlock(policy, landlock.abi), "sandbox");
  }
  TRY(ApplySeccomp(AddRules), "sandbox");
  if (landlock.abi == 0) {
    TRY_ASSIGN(UniqueFd fd, OpenFile(marker, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644),
               "sandbox: marking the renderer unsandboxed");
    TRY(WriteAll(fd.get(), landlock.missing + "\n"), "sandbox: marking the renderer unsandboxed");
    LOG_WARN("unsandboxed: %s: the renderer may write any file uid 0 owns (seccomp still limits its calls and signals)",
             landlock.missing.c_str());
  }
  return Ok{};
}

Result<> EnterGateSandbox() {
  TRY(DropCapabilities(), "gate sandbox");
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return Error::Sys("gate sandbox: no_new_privs");
  TRY(ApplySeccomp(AddGateRules), "gate sandbox");
  return Ok{};
}

void LogDeniedSyscalls() {
  const uint64_t n = g_denied_count.exchange(0, std::memory_order_relaxed);
  if (n == 0) return;
  LOG_WARN("seccomp: denied syscall %d (returned EPERM; %llu denied call%s since the last report)",
           g_denied_last.load(std::memory_order_relaxed), static_cast<unsigned long long>(n),
           n == 1 ? "" : "s");
}

}  // namespace prochook
