// The renderer's sandbox, entered in a forked child (it cannot be undone).
#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "common/io.h"
#include "common/log.h"
#include "renderer/sandbox.h"
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

bool fs_exists(const std::string& path) { return ::access(path.c_str(), F_OK) == 0; }

std::string Text(const std::string& path) {
  auto t = ReadFile(path);
  return t ? *t : "";
}

}  // namespace

TEST_CASE("EnterSandbox: no capabilities, no_new_privs, seccomp; denied syscalls are EPERM and logged") {
  if (geteuid() != 0) {
    MESSAGE("SKIPPED: the sandbox drops root's capabilities; run as root");
    return;
  }
  TempDir t;
  const std::string log = t.path() + "/log", data = t.path() + "/file";
  t.Write({{"state/meminfo", "x"}, {"state/sys-cpu/online", "0\n"}});
  pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    UniqueFd fd(::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600));
    ConfigureLog({.fd = fd.get(), .syslog = false, .min = LogLevel::kInfo, .tag = "sandbox test"});
    if (!EnterSandbox()) _exit(10);
    // Denied: a socket (the renderer has no business with the network).
    errno = 0;
    if (::socket(AF_INET, SOCK_STREAM, 0) != -1 || errno != EPERM) _exit(11);
    // Allowed: what a refresh does.
    if (!ReadFile("/proc/self/status")) _exit(13);
    UniqueFd out(::open(data.c_str(), O_RDWR | O_CREAT, 0644));
    if (!out.valid() || !PwriteAll(out.get(), "written\n", 0)) _exit(14);
    // The renderer's last act: removing its state directory.
    if (!RemoveStateDir(t.path() + "/state")) _exit(15);
    auto status = ReadFile("/proc/self/status");
    std::ofstream(data + ".status") << (status ? *status : "");
    _exit(0);
  }
  int wstatus = 0;
  REQUIRE(::waitpid(child, &wstatus, 0) == child);
  REQUIRE(WIFEXITED(wstatus));
  CHECK(WEXITSTATUS(wstatus) == 0);
  INFO("log: " << Text(log));
  CHECK_FALSE(fs_exists(t.path() + "/state"));
  CHECK(Text(data) == "written\n");
  const std::string status = Text(data + ".status");
  CHECK(StatusField(status, "CapEff") == "0000000000000000");
  CHECK(StatusField(status, "CapPrm") == "0000000000000000");
  CHECK(StatusField(status, "CapBnd") == "0000000000000000");
  CHECK(StatusField(status, "NoNewPrivs") == "1");
  CHECK(StatusField(status, "Seccomp") == "2");
#if defined(__x86_64__)
  CHECK(Text(log).find("seccomp: denied syscall 41 (returned EPERM)") != std::string::npos);
#endif
}
