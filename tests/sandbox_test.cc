// The renderer's sandbox, entered in forked children (it cannot be undone).
#include <doctest/doctest.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <sstream>
#include <thread>

#include "common/io.h"
#include "common/log.h"
#include "common/proc.h"
#include "hook/ps.h"
#include "renderer/loop.h"
#include "renderer/sandbox.h"
#include "state/record.h"
#include "state/state_dir.h"
#include "tests/testing.h"

using namespace prochook;
using prochook::testing::TempDir;

namespace {

std::string StatusField(const std::string& status, const std::string& key) {
  std::istringstream in(status);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(key + ":", 0) == 0) {
      std::string v = line.substr(key.size() + 1);
      return v.substr(v.find_first_not_of(" \t"));
    }
  }
  return "";
}

bool Exists(const std::string& path) { return ::access(path.c_str(), F_OK) == 0; }

std::string Text(const std::string& path) {
  auto t = ReadFile(path);
  return t ? *t : "";
}

// A root process the sandboxed child does not own: sleeps until killed;
// killed and reaped on scope exit.
struct Sleeper {
  pid_t pid = ::fork();
  Sleeper() {
    if (pid == 0) {
      ::pause();
      _exit(0);
    }
  }
  ~Sleeper() {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
  }
  bool Alive() const { return ::waitpid(pid, nullptr, WNOHANG) == 0; }
};

// Runs fn in a forked child; its exit code (-signal if killed, -1000 if
// it outlived timeout and was killed).
template <typename F>
int InChild(F fn, std::chrono::seconds timeout = std::chrono::seconds(20)) {
  pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) _exit(fn());
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  int status = 0;
  while (::waitpid(child, &status, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(child, SIGKILL);
      ::waitpid(child, nullptr, 0);
      return -1000;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
}

// The child's report: /proc/self/status, written to an fd opened before
// the sandbox.
bool Report(int fd) {
  auto status = ReadFile("/proc/self/status");
  return status && WriteAll(fd, *status);
}

void CheckLeastPrivilege(const std::string& status) {
  INFO("status:\n" << status);
  CHECK(StatusField(status, "CapEff") == "0000000000000000");
  CHECK(StatusField(status, "CapPrm") == "0000000000000000");
  CHECK(StatusField(status, "CapBnd") == "0000000000000000");
  CHECK(StatusField(status, "NoNewPrivs") == "1");
  CHECK(StatusField(status, "Seccomp") == "2");
}

volatile sig_atomic_t g_raised = 0;

}  // namespace

TEST_CASE("RendererPolicy: reads in /proc, /sys and the record's cgroup mounts wherever they are") {
  ContainerRecord r;
  r.cgroups["memory"] = {1, "/tmp/fixture/cg/memory/ct", "/tmp/fixture/cg/memory"};
  r.cgroups["cpu"] = {2, "/elsewhere/unified/ct", "/elsewhere/unified"};
  r.cgroups["pids"] = {2, "/elsewhere/unified/ct", "/elsewhere/unified"};
  r.cgroups["cpuset"] = {};  // absent: nothing to read
  const LandlockPolicy p = RendererPolicy("/run/prochook/web", r);
  CHECK(p.read == std::vector<std::string>{"/proc", "/sys", "/elsewhere/unified", "/tmp/fixture/cg/memory"});
  CHECK(p.own == std::vector<std::string>{"/run/prochook/web"});
  CHECK(p.remove_dir == std::vector<std::string>{"/run/prochook"});
}

TEST_CASE("EnterSandbox: no capabilities, no_new_privs, seccomp; a denied syscall is EPERM, counted, logged outside the handler") {
  if (geteuid() != 0 && prochook::testing::SkipOrFailInCi("the sandbox drops root's capabilities; run as root")) return;
  TempDir t;
  const std::string state = t.path() + "/state", log = t.path() + "/log", report = t.path() + "/report";
  t.Write({{"state/meminfo", "x"}, {"state/sys-cpu/online", "0\n"}});
  const int code = InChild([&] {
    UniqueFd log_fd(::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600));
    UniqueFd out(::open(report.c_str(), O_WRONLY | O_CREAT, 0600));
    ConfigureLog({.fd = log_fd.get(), .syslog = false, .min = LogLevel::kInfo, .tag = "sandbox test"});
    if (!EnterSandbox(state, RendererPolicy(state, {}), ProbeLandlock())) return 10;
    // Denied: a socket (the renderer has no business with the network).
    errno = 0;
    if (::socket(AF_INET, SOCK_STREAM, 0) != -1 || errno != EPERM) return 11;
    // The SIGSYS handler only counts: nothing is logged until the loop asks.
    struct stat st;
    if (::fstat(log_fd.get(), &st) != 0 || st.st_size != 0) return 12;
    LogDeniedSyscalls();
    if (::fstat(log_fd.get(), &st) != 0 || st.st_size == 0) return 13;
    // Allowed: what a refresh does.
    if (!ReadFile("/proc/self/status") || !ReadFile("/sys/devices/system/cpu/online")) return 14;
    if (::mkdir((state + "/sub").c_str(), 0755) != 0) return 15;
    UniqueFd dir(::open(state.c_str(), O_RDONLY | O_DIRECTORY));
    if (!dir.valid() || ::futimens(dir.get(), nullptr) != 0) return 20;
    UniqueFd file(::open((state + "/sub/file").c_str(), O_RDWR | O_CREAT, 0644));
    if (!file.valid() || !PwriteAll(file.get(), "written\n", 0) || ::ftruncate(file.get(), 8) != 0) return 16;
    if (Text(state + "/sub/file") != "written\n") return 17;
    if (!Report(out.get())) return 18;
    // The renderer's last act: removing its state directory.
    if (!RemoveStateDir(state)) return 19;
    return 0;
  });
  CHECK(code == 0);
  INFO("log: " << Text(log));
  CHECK_FALSE(Exists(state));
  CheckLeastPrivilege(Text(report));
#if defined(__x86_64__)
  CHECK(Text(log).find("seccomp: denied syscall 41 (returned EPERM; 1 denied call since the last report)") !=
        std::string::npos);
#endif
}

TEST_CASE("EnterSandbox: uid 0 inside cannot write, create, remove or read outside its dirs, nor signal other processes") {
  if (geteuid() != 0 && prochook::testing::SkipOrFailInCi("the sandbox drops root's capabilities; run as root")) return;
  const LandlockSupport landlock = ProbeLandlock();
  INFO("Landlock: " << landlock.missing);
  REQUIRE(landlock.abi > 0);  // every kernel prochook supports has it (Debian 12's 6.1: ABI 2)
  TempDir t;
  const std::string state = t.path() + "/state";
  // Root-owned files next to the state directory, and a cgroup fixture
  // tree outside /sys (its mount point comes from the record).
  t.Write({{"victim", "root's\n"},
           {"doomed", "root's\n"},
           {"secret", "root's\n"},
           {"cg/memory/ct/memory.stat", "cache 0\n"},
           {"state/meminfo", "x"},
           {std::string("state/") + kUnsandboxedFile, "left by an earlier renderer\n"}});
  ContainerRecord record;
  record.cgroups["memory"] = {1, t.path() + "/cg/memory/ct", t.path() + "/cg/memory"};
  Sleeper other;
  REQUIRE(other.pid > 0);
  const int code = InChild([&] {
    UniqueFd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, other.pid, 0)));
    struct sigaction sa = {};
    sa.sa_handler = [](int) { g_raised = 1; };
    ::sigaction(SIGUSR1, &sa, nullptr);
    if (!pidfd.valid() || !EnterSandbox(state, RendererPolicy(state, record), landlock)) return 10;
    // Files: Landlock's EACCES, whatever the uid.
    errno = 0;
    if (::open((t.path() + "/victim").c_str(), O_WRONLY) != -1 || errno != EACCES) return 11;
    errno = 0;
    if (::open((t.path() + "/new").c_str(), O_WRONLY | O_CREAT, 0644) != -1 || errno != EACCES) return 12;
    errno = 0;
    if (::unlink((t.path() + "/doomed").c_str()) != -1 || errno != EACCES) return 13;
    errno = 0;
    if (::mkdir((t.path() + "/dir").c_str(), 0755) != -1 || errno != EACCES) return 14;
    errno = 0;
    if (::open((t.path() + "/secret").c_str(), O_RDONLY) != -1 || errno != EACCES) return 15;
    // Signals to another uid-0 process: seccomp's EPERM, by every call.
    errno = 0;
    if (::syscall(SYS_tgkill, other.pid, other.pid, SIGKILL) != -1 || errno != EPERM) return 20;
    errno = 0;
    if (::kill(other.pid, SIGKILL) != -1 || errno != EPERM) return 21;
    errno = 0;
    if (::syscall(SYS_tkill, other.pid, SIGKILL) != -1 || errno != EPERM) return 22;
    errno = 0;
    if (::syscall(SYS_pidfd_send_signal, pidfd.get(), SIGKILL, nullptr, 0) != -1 || errno != EPERM) return 23;
    // No executable memory.
    errno = 0;
    if (::mmap(nullptr, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) != MAP_FAILED ||
        errno != EPERM) {
      return 24;
    }
    // Timestamps by path: Landlock does not cover them, seccomp does.
    errno = 0;
    if (::utimensat(AT_FDCWD, (t.path() + "/victim").c_str(), nullptr, 0) != -1 || errno != EPERM) return 25;
    // Still allowed: signalling itself (raise, abort), its cgroup inputs,
    // its own directory (and the stale marker is gone: it is landlocked).
    if (::raise(SIGUSR1) != 0 || g_raised != 1) return 30;
    if (Text(t.path() + "/cg/memory/ct/memory.stat") != "cache 0\n") return 31;
    if (Exists(state + "/" + kUnsandboxedFile)) return 32;
    if (!RemoveStateDir(state)) return 33;
    return 0;
  });
  CHECK(code == 0);
  CHECK(Text(t.path() + "/victim") == "root's\n");
  CHECK(Exists(t.path() + "/doomed"));
  CHECK_FALSE(Exists(t.path() + "/new"));
  CHECK(other.Alive());
  CHECK_FALSE(Exists(state));
}

TEST_CASE("EnterSandbox without Landlock: the rest of the sandbox holds, and the renderer is marked unsandboxed") {
  if (geteuid() != 0 && prochook::testing::SkipOrFailInCi("the sandbox drops root's capabilities; run as root")) return;
  TempDir t;
  const std::string state = t.path() + "/state", report = t.path() + "/report";
  t.Write({{"state/meminfo", "x"}});
  Sleeper other;
  REQUIRE(other.pid > 0);
  const int code = InChild([&] {
    UniqueFd out(::open(report.c_str(), O_WRONLY | O_CREAT, 0600));
    ConfigureLog({.fd = -1});
    const LandlockSupport none = {0, "Landlock is disabled on this host (test)"};
    if (!EnterSandbox(state, RendererPolicy(state, {}), none)) return 10;
    errno = 0;
    if (::syscall(SYS_tgkill, other.pid, other.pid, SIGKILL) != -1 || errno != EPERM) return 11;
    return Report(out.get()) ? 0 : 12;
  });
  CHECK(code == 0);
  CHECK(Text(state + "/" + kUnsandboxedFile) == "Landlock is disabled on this host (test)\n");
  CHECK(other.Alive());
  CheckLeastPrivilege(Text(report));
}

TEST_CASE("a renderer that cannot enter its sandbox exits: the files keep their content, ps shows it not running") {
  if (geteuid() != 0 && prochook::testing::SkipOrFailInCi("needs root")) return;
  TempDir t;
  Sleeper init;
  REQUIRE(init.pid > 0);
  const std::string id = "sandbox-fails", state = t.path() + "/" + id;
  ContainerRecord r;
  r.id = id;
  r.pid = init.pid;
  r.pid_start = ReadProcessStartTime(init.pid).value();
  r.interval_ms = 100;
  r.files = {"meminfo"};
  t.Write({{id + "/" + kRecordFile, SerializeRecord(r)}});
  const int code = InChild([&] {
    // Without CAP_SETPCAP in its effective set the capability drop fails:
    // the first of the mandatory steps.
    struct __user_cap_header_struct header = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct data[2] = {};
    if (::syscall(SYS_capget, &header, data) != 0) return 100;
    data[0].effective &= ~(1u << CAP_SETPCAP);
    if (::syscall(SYS_capset, &header, data) != 0) return 101;
    return RunRenderer(state);
  });
  const std::string log = Text(state + "/" + kRendererLogFile);
  INFO("renderer.log:\n" << log);
  CHECK(code == 1);
  CHECK(log.find("sandbox: drop capability") != std::string::npos);
  CHECK(Text(state + "/meminfo").rfind("MemTotal:", 0) == 0);  // its first refresh, kept
  const auto served = ListServed(t.path(), std::chrono::system_clock::now());
  REQUIRE(served.size() == 1);
  CHECK(served[0].state == "renderer-dead");
}
