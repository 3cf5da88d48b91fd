// The integration matrix: every engine, a container with 256 MiB and a
// quota of one CPU, prochook configured as README says. Inside: MemTotal
// and the CPU count; after removal: no state dir or renderer left (the
// mounts went with the container's mount namespace).
#include <doctest/doctest.h>
#include <signal.h>

#include <algorithm>
#include <filesystem>
#include <sstream>
#include <thread>

#include "tests/e2e/engines.h"

namespace fs = std::filesystem;
using namespace prochook::e2e;
using namespace std::chrono_literals;

namespace {

void CheckEngine(Engine engine) {
  if (SkipUnlessReady(EngineTools(engine))) return;
  INFO("engine: " << EngineName(engine));
  EngineContainer c(engine, {});
  REQUIRE_MESSAGE(c.start().exit_code == 0, "start: " << c.start().err << c.start().out);
  const std::string dir = StateDirFor(c.id());
  REQUIRE_MESSAGE(fs::exists(dir + "/state.json"), "no state dir " << dir);

  RunResult mem = c.Exec({"head", "-n", "1", "/proc/meminfo"});
  CHECK(mem.exit_code == 0);
  CHECK(c.Exec({"stat", "-f", "-c", "%T", "/proc/meminfo"}).out != "proc\n");  // prochook's file
  CHECK(mem.out == "MemTotal:         262144 kB\n");
  RunResult online = c.Exec({"cat", "/sys/devices/system/cpu/online"});
  CHECK(online.out == "0\n");
  RunResult cpus = c.Exec({"grep", "-c", "^processor", "/proc/cpuinfo"});
  CHECK(cpus.out == "1\n");
  RunResult py = c.Exec({"python3", "-c", "import os; print(os.cpu_count())"});
  CHECK(py.out == "1\n");
  // Real tools, and usage that moves: procps free, sysstat mpstat, and
  // 48 MiB written to /dev/shm (every engine's is at least 64 MiB) seen
  // in MemFree. Two reads 1.5 s apart: the first wakes an idle renderer.
  RunResult free = c.Exec({"free", "-k"});
  INFO("free: " << free.out);
  std::istringstream free_lines(free.out.substr(std::min(free.out.size(), free.out.find("\nMem:") + 5)));
  uint64_t free_total = 0;
  free_lines >> free_total;
  CHECK(free_total == 262144);
  RunResult mpstat = c.Exec({"mpstat", "1", "1"});
  INFO("mpstat: " << mpstat.out);
  CHECK(mpstat.out.find("(1 CPU)") != std::string::npos);
  auto mem_free = [&] {
    c.Exec({"cat", "/proc/meminfo"});
    std::this_thread::sleep_for(1500ms);
    return MeminfoFields(c.Exec({"cat", "/proc/meminfo"}).out).at("MemFree");
  };
  const uint64_t free_before = mem_free();
  REQUIRE(c.Exec({"dd", "if=/dev/zero", "of=/dev/shm/fill", "bs=1M", "count=48"}).exit_code == 0);
  const uint64_t free_after = mem_free();
  INFO("MemFree " << free_before << " -> " << free_after << " kB");
  CHECK(free_before >= free_after + 40 * 1024);

  std::istringstream pidline(ReadText(dir + "/renderer.pid"));
  int renderer = 0;
  pidline >> renderer;
  CHECK(Alive(renderer));

  c.Remove();
  CHECK(WaitFor(10s, [&] { return !fs::exists(dir); }));
  CHECK(WaitFor(5s, [&] { return !Alive(renderer); }));
}

}  // namespace

TEST_CASE("engines: runc, hooks in config.json") { CheckEngine(Engine::kRunc); }
TEST_CASE("engines: crun, hooks in config.json") { CheckEngine(Engine::kCrun); }
TEST_CASE("engines: podman with runc, hooks.d") { CheckEngine(Engine::kPodmanRunc); }
TEST_CASE("engines: podman with crun, hooks.d") { CheckEngine(Engine::kPodmanCrun); }
TEST_CASE("engines: docker, prochook runtime in daemon.json") { CheckEngine(Engine::kDocker); }
TEST_CASE("engines: containerd, runc shim BinaryName = prochook-runtime") {
  CheckEngine(Engine::kContainerd);
}

TEST_CASE("engines: crun with the hook at prestart, for older engines") {
  if (SkipUnlessReady({"crun"})) return;
  PrepareCgroupsForCrun();
  Container c({.memory_limit = 128ull << 20, .runtime = "crun", .hook_stage = "prestart"});
  RunResult start = c.Start();
  REQUIRE_MESSAGE(start.exit_code == 0, "crun run: " << start.err);
  CHECK(c.Exec({"head", "-n", "1", "/proc/meminfo"}).out == "MemTotal:         131072 kB\n");
  const std::string dir = c.state_dir();
  c.Stop();
  CHECK(WaitFor(10s, [&] { return !fs::exists(dir); }));
  CHECK(WaitFor(5s, [&] { return RenderersOf(dir) == 0; }));
}

TEST_CASE("engines: io.prochook.disable=true through podman's and ctr's --annotation") {
  for (Engine engine : {Engine::kRunc, Engine::kPodmanRunc, Engine::kContainerd}) {
    if (SkipUnlessReady(EngineTools(engine))) return;
    INFO("engine: " << EngineName(engine));
    EngineContainer c(engine, {.annotations = {{"io.prochook.disable", "true"}}});
    REQUIRE_MESSAGE(c.start().exit_code == 0, "start: " << c.start().err << c.start().out);
    CHECK(StateDirFor(c.id()).empty());
    CHECK(Run({ProchookBinary(), "ps"}).out.find(c.id()) == std::string::npos);
    // The kernel's file with the host's memory, not the limit: untouched.
    CHECK(c.Exec({"stat", "-f", "-c", "%T", "/proc/meminfo"}).out == "proc\n");
    CHECK(c.Exec({"head", "-n", "1", "/proc/meminfo"}).out == ReadText("/proc/meminfo").substr(0, ReadText("/proc/meminfo").find('\n') + 1));
  }
}
