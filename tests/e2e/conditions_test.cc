// Host and container conditions prochook must live with: no memory limit,
// the host's pid namespace, a pid namespace shared with another container
// (its init is not pid 1 there).
#include <doctest/doctest.h>

#include <filesystem>
#include <regex>

#include "tests/e2e/harness.h"

using namespace prochook::e2e;

namespace {

uint64_t HostMemTotal() { return MeminfoFields(ReadText("/proc/meminfo")).at("MemTotal"); }

// running/total of /proc/loadavg.
std::pair<int, int> LoadTasks(const Container& c) {
  std::string text = c.Exec({"cat", "/proc/loadavg"}).out;
  std::smatch m;
  REQUIRE_MESSAGE(std::regex_search(text, m, std::regex(" ([0-9]+)/([0-9]+) [0-9]+\\n$")), text);
  return {std::stoi(m[1]), std::stoi(m[2])};
}

}  // namespace

TEST_CASE("conditions: no memory limit shows the host's memory as the kernel reports it") {
  if (SkipUnlessReady()) return;
  Container c({.memory_limit = 0});
  REQUIRE(c.Start().exit_code == 0);
  auto f = MeminfoFields(c.Exec({"cat", "/proc/meminfo"}).out);
  CHECK(f.at("MemTotal") == HostMemTotal());
  CHECK(f.at("MemAvailable") <= f.at("MemTotal"));
  // The host's figures (not host total minus the container's usage, which
  // would claim memory the host itself is using is free).
  CHECK(f.at("MemFree") <= f.at("MemTotal"));
  const uint64_t host_free = MeminfoFields(ReadText("/proc/meminfo")).at("MemFree");
  CHECK(f.at("MemFree") < host_free + 256 * 1024);
  CHECK(f.at("MemFree") + 256 * 1024 > host_free);
}

TEST_CASE("conditions: the host's pid namespace") {
  if (SkipUnlessReady()) return;
  Container c({.pid_ns = "host"});
  REQUIRE(c.Start().exit_code == 0);
  CHECK(MeminfoFields(c.Exec({"cat", "/proc/meminfo"}).out).at("MemTotal") == 262144);
  // The container's tasks only (its cgroup), not the host's hundreds.
  auto [running, total] = LoadTasks(c);
  CHECK(total >= 1);
  CHECK(total < 10);
  CHECK(running <= total);
}

TEST_CASE("conditions: a second container in the first one's pid namespace (init not pid 1)") {
  if (SkipUnlessReady()) return;
  Container a({});
  REQUIRE(a.Start().exit_code == 0);
  Container b({.memory_limit = 128ull << 20, .pid_ns = "/proc/" + std::to_string(a.InitPid()) + "/ns/pid"});
  RunResult start = b.Start();
  REQUIRE_MESSAGE(start.exit_code == 0, "runc run: " << start.err);
  CHECK(b.Exec({"cat", "/proc/1/comm"}).out == "sleep\n");  // a's init is pid 1 here
  CHECK(MeminfoFields(b.Exec({"cat", "/proc/meminfo"}).out).at("MemTotal") == 131072);
  CHECK(MeminfoFields(a.Exec({"cat", "/proc/meminfo"}).out).at("MemTotal") == 262144);
  // b's loadavg counts b's cgroup, not the namespace's tasks.
  auto [running, total] = LoadTasks(b);
  CHECK(total < 10);
  // a's init is the namespace's init: when it dies the kernel kills b's
  // too, and b's renderer cleans up after it.
  a.Stop();
  CHECK(WaitFor(std::chrono::seconds(10), [&] { return !std::filesystem::exists(b.state_dir()); }));
}
