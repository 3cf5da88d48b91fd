// A rootfs that tries to redirect prochook's mounts. prochook must never
// mount anything outside the container's rootfs or over anything that is
// not the procfs/sysfs file it expects, and must say so in its log. The
// container still starts (fail-open), untouched.
#include <doctest/doctest.h>

#include <filesystem>

#include "tests/e2e/harness.h"

namespace fs = std::filesystem;
using namespace prochook::e2e;

namespace {

// The hook's log lines about this container.
std::string HookLogFor(const Container& c) {
  std::string out;
  std::istringstream in(ReadText("/run/prochook/hook.log"));
  std::string line;
  while (std::getline(in, line)) {
    if (line.find("prochook hook " + c.id() + "[") != std::string::npos) out += line + "\n";
  }
  return out;
}

// No mount of prochook's reached the container (all-or-nothing) or the host.
void CheckUntouched(const Container& c) {
  CHECK_FALSE(fs::exists(c.state_dir()));
  // prochook's mounts are files of <store>/<id>/: "<id>/meminfo", "<id>/sys-cpu".
  const std::string mounts = ReadText("/proc/" + std::to_string(c.InitPid()) + "/mountinfo");
  CHECK(mounts.find(c.id() + "/meminfo") == std::string::npos);
  CHECK(mounts.find(c.id() + "/sys-cpu") == std::string::npos);
  CHECK(ReadText("/proc/self/mountinfo").find(c.id() + "/meminfo") == std::string::npos);
}

}  // namespace

TEST_CASE("attacks: /sys is not sysfs (no sysfs mount) and holds a planted devices/system/cpu") {
  if (SkipUnlessReady()) return;
  // runc needs procfs at /proc to start at all; /sys is the container's to
  // choose. A planted CPU directory on tmpfs must not be taken for sysfs.
  Container c({.drop_mounts = {"/sys"}, .rootfs_entries = {{"sys/devices/system/cpu/online", "0-63\n"}}});
  RunResult start = c.Start();
  REQUIRE_MESSAGE(start.exit_code == 0, "runc run: " << start.err);
  const std::string log = HookLogFor(c);
  INFO("hook log:\n" << log);
  CHECK(log.find("policy fail-open") != std::string::npos);
  CHECK(log.find("sys/devices/system/cpu is not a sysfs directory") != std::string::npos);
  CHECK(c.Exec({"cat", "/sys/devices/system/cpu/online"}).out == "0-63\n");
  CheckUntouched(c);
}

TEST_CASE("attacks: sys/devices/system/cpu is a symlink; nothing is mounted, not even /proc files") {
  if (SkipUnlessReady()) return;
  Container c({.drop_mounts = {"/sys"}, .rootfs_entries = {{"sys/devices/system/cpu", "->/proc"}}});
  RunResult start = c.Start();
  REQUIRE_MESSAGE(start.exit_code == 0, "runc run: " << start.err);
  const std::string log = HookLogFor(c);
  INFO("hook log:\n" << log);
  CHECK(log.find("policy fail-open") != std::string::npos);
  CHECK(log.find("resolve sys/devices/system/cpu in the rootfs") != std::string::npos);
  // All or nothing: /proc/meminfo stayed the kernel's.
  CHECK(c.Exec({"head", "-n", "1", "/proc/meminfo"}).out ==
        ReadText("/proc/meminfo").substr(0, ReadText("/proc/meminfo").find('\n') + 1));
  CheckUntouched(c);
}
