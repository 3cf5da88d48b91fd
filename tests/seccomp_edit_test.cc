#include <doctest/doctest.h>

#include <functional>

#include <nlohmann/json.hpp>

#include "common/text.h"
#include "oci/seccomp_edit.h"

using namespace prochook;
using Json = nlohmann::ordered_json;

namespace {

constexpr char kRunDir[] = "/run/prochook";
constexpr char kListener[] = "/run/prochook/web.0123456789abcdef/sysinfo";

// The shape of Docker's default profile's big SCMP_ACT_ALLOW rule (moby
// profiles/seccomp/default.json): ~300 x86_64 system calls, sysinfo among
// them, without the privileged ones Docker leaves to other rules.
constexpr char kDockerAllowNames[] =
    "accept accept4 access afs_syscall alarm arch_prctl bind brk capget capset chdir chmod chown "
    "chroot clock_getres clock_gettime clock_nanosleep clone close close_range connect "
    "copy_file_range creat dup dup2 dup3 epoll_create epoll_create1 epoll_ctl epoll_ctl_old "
    "epoll_pwait epoll_pwait2 epoll_wait epoll_wait_old eventfd eventfd2 execve execveat exit "
    "exit_group faccessat faccessat2 fadvise64 fallocate fanotify_init fanotify_mark fchdir fchmod "
    "fchmodat fchown fchownat fcntl fdatasync fgetxattr flistxattr flock fork fremovexattr fsetxattr "
    "fstat fstatfs fsync ftruncate futex futex_waitv futimesat get_robust_list get_thread_area "
    "getcpu getcwd getdents getdents64 getegid geteuid getgid getgroups getitimer getpeername "
    "getpgid getpgrp getpid getpmsg getppid getpriority getrandom getresgid getresuid getrlimit "
    "getrusage getsid getsockname getsockopt gettid gettimeofday getuid getxattr inotify_add_watch "
    "inotify_init inotify_init1 inotify_rm_watch io_cancel io_destroy io_getevents io_pgetevents "
    "io_setup io_submit io_uring_enter io_uring_register io_uring_setup ioctl ioprio_get ioprio_set "
    "kcmp kill landlock_add_rule landlock_create_ruleset landlock_restrict_self lchown lgetxattr "
    "link linkat listen listxattr llistxattr lremovexattr lseek lsetxattr lstat madvise membarrier "
    "memfd_create memfd_secret migrate_pages mincore mkdir mkdirat mknod mknodat mlock mlock2 "
    "mlockall mmap modify_ldt mprotect mq_getsetattr mq_notify mq_open mq_timedreceive mq_timedsend "
    "mq_unlink mremap msgctl msgget msgrcv msgsnd msync munlock munlockall munmap nanosleep "
    "newfstatat open open_tree openat openat2 pause pidfd_getfd pidfd_open pidfd_send_signal pipe "
    "pipe2 pkey_alloc pkey_free pkey_mprotect poll ppoll prctl pread64 preadv preadv2 prlimit64 "
    "process_madvise process_mrelease process_vm_readv process_vm_writev pselect6 putpmsg pwrite64 "
    "pwritev pwritev2 read readahead readlink readlinkat readv recvfrom recvmmsg recvmsg "
    "remap_file_pages removexattr rename renameat renameat2 restart_syscall rmdir rseq rt_sigaction "
    "rt_sigpending rt_sigprocmask rt_sigqueueinfo rt_sigreturn rt_sigsuspend rt_sigtimedwait "
    "rt_tgsigqueueinfo sched_get_priority_max sched_get_priority_min sched_getaffinity sched_getattr "
    "sched_getparam sched_getscheduler sched_rr_get_interval sched_setaffinity sched_setattr "
    "sched_setparam sched_setscheduler sched_yield seccomp security select semctl semget semop "
    "semtimedop sendfile sendmmsg sendmsg sendto set_robust_list set_thread_area set_tid_address "
    "setdomainname setfsgid setfsuid setgid setgroups sethostname setitimer setpgid setpriority "
    "setregid setresgid setresuid setreuid setrlimit setsid setsockopt setuid setxattr shmat shmctl "
    "shmdt shmget shutdown sigaltstack signalfd signalfd4 socket socketpair splice stat statfs statx "
    "symlink symlinkat sync sync_file_range syncfs sysinfo tee tgkill time timer_create timer_delete "
    "timer_getoverrun timer_gettime timerfd_create timerfd_gettime times tkill truncate tuxcall "
    "umask uname unlink unlinkat utime utimensat utimes vfork vmsplice vserver wait4 waitid write "
    "writev "    ;

// config.json as Docker 20.10 writes it for `docker run` with the default
// profile: the big allow rule, then rules with arguments, and ERRNO rules.
Json DockerConfig() {
  Json names = Json::array();
  for (const std::string& n : SplitToStrings(kDockerAllowNames, ' ')) names.push_back(n);
  Json seccomp = {
      {"defaultAction", "SCMP_ACT_ERRNO"},
      {"defaultErrnoRet", 1},
      {"architectures", {"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"}},
      {"syscalls",
       {{{"names", names}, {"action", "SCMP_ACT_ALLOW"}},
        {{"names", {"personality"}},
         {"action", "SCMP_ACT_ALLOW"},
         {"args", {{{"index", 0}, {"value", 0}, {"op", "SCMP_CMP_EQ"}}}}},
        {{"names", {"clone3"}}, {"action", "SCMP_ACT_ERRNO"}, {"errnoRet", 38}}}}};
  return {{"ociVersion", "1.0.2-dev"},
          {"process", {{"args", {"sh"}}}},
          {"root", {{"path", "/var/lib/docker/overlay2/x/merged"}}},
          {"hooks", {{"prestart", {{{"path", "/proc/1/exe"}}}}}},
          {"linux", {{"namespaces", {{{"type", "pid"}}}}, {"seccomp", seccomp}, {"maskedPaths", {"/proc/kcore"}}}}};
}

Json Edited(const Json& config) {
  auto r = AddSysinfoNotify(config.dump(), kListener, kRunDir);
  REQUIRE(r.ok());
  REQUIRE(r->edit == SysinfoEdit::kAdded);
  return Json::parse(r->text);
}

// Every rule naming sysinfo, as {action, ...}.
std::vector<std::string> SysinfoActions(const Json& seccomp) {
  std::vector<std::string> out;
  for (const Json& rule : seccomp["syscalls"]) {
    for (const Json& n : rule["names"]) {
      if (n == "sysinfo") out.push_back(rule["action"]);
    }
  }
  return out;
}

}  // namespace

TEST_CASE("AddSysinfoNotify: Docker's default profile loses sysinfo from its allow rule only") {
  const Json before = DockerConfig();
  const size_t allowed = before["linux"]["seccomp"]["syscalls"][0]["names"].size();
  CHECK(allowed > 280);
  const Json after = Edited(before);
  const Json& seccomp = after["linux"]["seccomp"];
  CHECK(SysinfoActions(seccomp) == std::vector<std::string>{"SCMP_ACT_NOTIFY"});
  CHECK(seccomp["listenerPath"] == kListener);
  // The big rule keeps every other name, in order.
  Json expected_names = before["linux"]["seccomp"]["syscalls"][0]["names"];
  expected_names.erase(std::find(expected_names.begin(), expected_names.end(), Json("sysinfo")));
  CHECK(seccomp["syscalls"][0]["names"] == expected_names);
  CHECK(seccomp["syscalls"][0]["names"].size() == allowed - 1);
  // Every other rule and field is as it was; the notify rule comes last.
  CHECK(seccomp["syscalls"][1] == before["linux"]["seccomp"]["syscalls"][1]);
  CHECK(seccomp["syscalls"][2] == before["linux"]["seccomp"]["syscalls"][2]);
  CHECK(seccomp["syscalls"].size() == 4);
  CHECK(seccomp["syscalls"][3] == Json{{"names", {"sysinfo"}}, {"action", "SCMP_ACT_NOTIFY"}});
  // Key order kept: the only new key of the profile is appended.
  std::vector<std::string> keys;
  for (auto it = seccomp.begin(); it != seccomp.end(); ++it) keys.push_back(it.key());
  CHECK(keys == std::vector<std::string>{"defaultAction", "defaultErrnoRet", "architectures", "syscalls",
                                         "listenerPath"});
  Json rest = after;
  rest["linux"]["seccomp"] = before["linux"]["seccomp"];
  CHECK(rest.dump() == before.dump());
}

TEST_CASE("AddSysinfoNotify: sysinfo leaves every allow rule, and a rule left empty goes") {
  Json config = DockerConfig();
  config["linux"]["seccomp"]["syscalls"].push_back({{"names", {"sysinfo"}}, {"action", "SCMP_ACT_ALLOW"}});
  const Json after = Edited(config);
  const Json& seccomp = after["linux"]["seccomp"];
  CHECK(SysinfoActions(seccomp) == std::vector<std::string>{"SCMP_ACT_NOTIFY"});
  CHECK(seccomp["syscalls"].size() == 4);
}

TEST_CASE("AddSysinfoNotify: a config without seccomp gets a minimal profile") {
  Json config = DockerConfig();
  config["linux"].erase("seccomp");
  const Json after = Edited(config);
  const Json& seccomp = after["linux"]["seccomp"];
  CHECK(seccomp["defaultAction"] == "SCMP_ACT_ALLOW");
  CHECK(seccomp["listenerPath"] == kListener);
  CHECK(seccomp["syscalls"] == Json::array({{{"names", {"sysinfo"}}, {"action", "SCMP_ACT_NOTIFY"}}}));
#if defined(__x86_64__)
  // Without the compat architectures a 32-bit process would be refused.
  CHECK(seccomp["architectures"] == Json::array({"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"}));
#endif
  // No linux section at all, and a null seccomp, get the same.
  Json bare = {{"ociVersion", "1.0.2"}};
  CHECK(Edited(bare)["linux"]["seccomp"] == seccomp);
  config["linux"]["seccomp"] = nullptr;
  CHECK(Edited(config)["linux"]["seccomp"] == seccomp);
}

TEST_CASE("AddSysinfoNotify leaves a profile that decides sysinfo itself alone") {
  struct Case {
    const char* what;
    std::function<void(Json&)> change;
    const char* reason;
  };
  const Case cases[] = {
      {"sysinfo already notify",
       [](Json& s) { s["syscalls"].push_back({{"names", {"sysinfo"}}, {"action", "SCMP_ACT_NOTIFY"}}); },
       "action SCMP_ACT_NOTIFY"},
      {"sysinfo refused",
       [](Json& s) {
         s["syscalls"].insert(s["syscalls"].begin(),
                              Json{{"names", {"uname", "sysinfo"}}, {"action", "SCMP_ACT_ERRNO"}});
       },
       "action SCMP_ACT_ERRNO"},
      {"a listenerPath of its own", [](Json& s) { s["listenerPath"] = "/run/other/agent.sock"; },
       "listenerPath of its own"},
      {"sysinfo not allowed", [](Json& s) { s["syscalls"][0]["names"] = {"read", "write"}; },
       "does not allow sysinfo"},
  };
  for (const Case& c : cases) {
    CAPTURE(std::string(c.what));
    Json config = DockerConfig();
    c.change(config["linux"]["seccomp"]);
    auto r = AddSysinfoNotify(config.dump(), kListener, kRunDir);
    REQUIRE(r.ok());
    CHECK(r->edit == SysinfoEdit::kDeclined);
    CHECK(r->text.empty());
    CHECK(r->reason.find(c.reason) != std::string::npos);
  }
}

TEST_CASE("AddSysinfoNotify: annotations turn it off") {
  for (const auto& [key, value] : std::vector<std::pair<std::string, std::string>>{
           {"io.prochook.sysinfo", "off"}, {"io.prochook.disable", "true"}}) {
    CAPTURE(key);
    Json config = DockerConfig();
    config["annotations"] = {{key, value}};
    auto r = AddSysinfoNotify(config.dump(), kListener, kRunDir);
    REQUIRE(r.ok());
    CHECK(r->edit == SysinfoEdit::kDisabled);
    CHECK(r->text.empty());
  }
  Json on = DockerConfig();
  on["annotations"] = {{"io.prochook.sysinfo", "on"}};
  CHECK(Edited(on)["linux"]["seccomp"]["listenerPath"] == kListener);
}

TEST_CASE("AddSysinfoNotify refuses what is not a config") {
  CHECK_FALSE(AddSysinfoNotify("[]", kListener, kRunDir).ok());
  CHECK_FALSE(AddSysinfoNotify("{\"linux\": 3}", kListener, kRunDir).ok());
  CHECK_FALSE(AddSysinfoNotify("{", kListener, kRunDir).ok());
  auto weird = AddSysinfoNotify(R"({"linux":{"seccomp":{"defaultAction":7,"syscalls":5}}})", kListener, kRunDir);
  REQUIRE(weird.ok());
  CHECK(weird->edit == SysinfoEdit::kDeclined);
}

TEST_CASE("AddSysinfoNotify on its own earlier edit (a bundle given again) points it at the new agent") {
  const Json first = Edited(DockerConfig());
  const std::string again = "/run/prochook/web.fedcba9876543210/sysinfo";
  auto r = AddSysinfoNotify(first.dump(), again, kRunDir);
  REQUIRE(r.ok());
  REQUIRE(r->edit == SysinfoEdit::kAdded);
  Json expected = first;
  expected["linux"]["seccomp"]["listenerPath"] = again;
  CHECK(Json::parse(r->text) == expected);
  // An earlier version's socket name is ours too; another run directory's
  // socket, or one not in a state directory, is not.
  Json older = first;
  older["linux"]["seccomp"]["listenerPath"] = "/run/prochook/web.0123456789abcdef/sysinfo.sock";
  auto renamed = AddSysinfoNotify(older.dump(), again, kRunDir);
  REQUIRE(renamed.ok());
  CHECK(renamed->edit == SysinfoEdit::kAdded);
  for (const char* foreign : {"/run/prochook/agent.sock", "/run/prochook/a/b/c.sock", "/run/prochook/a/"}) {
    CAPTURE(std::string(foreign));
    Json other_path = first;
    other_path["linux"]["seccomp"]["listenerPath"] = foreign;
    auto r2 = AddSysinfoNotify(other_path.dump(), again, kRunDir);
    REQUIRE(r2.ok());
    CHECK(r2->edit == SysinfoEdit::kDeclined);
  }
  auto other = AddSysinfoNotify(first.dump(), kListener, "/run/elsewhere");
  REQUIRE(other.ok());
  CHECK(other->edit == SysinfoEdit::kDeclined);
}

TEST_CASE("RemoveSysinfoNotify undoes prochook's trap and nothing else") {
  const Json before = DockerConfig();
  const Json trapped = Edited(before);
  auto undone = RemoveSysinfoNotify(trapped.dump(), kRunDir);
  REQUIRE(undone.ok());
  REQUIRE(undone->has_value());
  const Json after = Json::parse(**undone);
  const Json& seccomp = after["linux"]["seccomp"];
  CHECK_FALSE(seccomp.contains("listenerPath"));
  CHECK(SysinfoActions(seccomp) == std::vector<std::string>{"SCMP_ACT_ALLOW"});
  // The profile is the one before, with sysinfo allowed by a rule of its own.
  Json expected = trapped;
  expected["linux"]["seccomp"].erase("listenerPath");
  expected["linux"]["seccomp"]["syscalls"][3]["action"] = "SCMP_ACT_ALLOW";
  CHECK(after == expected);
  // Nothing of ours: nothing to undo.
  auto untouched = RemoveSysinfoNotify(before.dump(), kRunDir);
  REQUIRE(untouched.ok());
  CHECK_FALSE(untouched->has_value());
  Json foreign = before;
  foreign["linux"]["seccomp"]["listenerPath"] = "/run/other/agent.sock";
  auto kept = RemoveSysinfoNotify(foreign.dump(), kRunDir);
  REQUIRE(kept.ok());
  CHECK_FALSE(kept->has_value());
}
