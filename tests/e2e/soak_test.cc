// Lifecycle soak: SOAK_CYCLES (default 500) start/stop cycles with runc and
// with podman, next to a long-lived container whose renderer refreshes every
// 10 ms. Afterwards: no renderer, state dir, mount or cgroup of the cycled
// containers left, and the long-lived renderer's memory did not grow.
#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <sstream>
#include <thread>

#include "tests/e2e/engines.h"

namespace fs = std::filesystem;
using namespace prochook::e2e;
using namespace std::chrono_literals;

namespace {

int Cycles() {
  const char* v = std::getenv("SOAK_CYCLES");
  return v != nullptr ? std::atoi(v) : 500;
}

uint64_t RssKiB(int pid) {
  std::istringstream in(ReadText("/proc/" + std::to_string(pid) + "/status"));
  std::string key;
  uint64_t kib = 0;
  while (in >> key) {
    if (key == "VmRSS:") {
      in >> kib;
      return kib;
    }
    in.ignore(1 << 20, '\n');
  }
  return 0;
}

int RendererPid(const std::string& state_dir) {
  std::istringstream in(ReadText(state_dir + "/renderer.pid"));
  int pid = 0;
  in >> pid;
  return pid;
}

// Renderer processes, state dirs and host mounts that mention `tag`.
struct Leftovers {
  int renderers = 0, state_dirs = 0, mounts = 0;
};
Leftovers Count(const std::vector<std::string>& ids) {
  Leftovers l;
  for (const auto& p : fs::directory_iterator("/proc")) {
    std::string cmd = ReadText((p.path() / "cmdline").string());
    std::replace(cmd.begin(), cmd.end(), '\0', ' ');
    for (const auto& id : ids) l.renderers += cmd.find("--state-dir /run/prochook/" + id + ".") != std::string::npos;
  }
  // A state directory is named "<id>.<hash>" (StateDirName).
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator("/run/prochook")) names.push_back(e.path().filename().string());
  const std::string mounts = ReadText("/proc/self/mountinfo");
  for (const auto& id : ids) {
    l.state_dirs += std::count_if(names.begin(), names.end(), [&](const auto& n) { return n.rfind(id + ".", 0) == 0; });
    l.mounts += mounts.find("/" + id + ".") != std::string::npos;
  }
  return l;
}

}  // namespace

TEST_CASE("soak: runc and podman start/stop cycles leak nothing; a busy renderer's memory stays flat") {
  if (SkipUnlessReady(EngineTools(Engine::kPodmanRunc))) return;
  const int cycles = Cycles();
  Container steady({.annotations = {{"io.prochook.interval", "10ms"}}});
  REQUIRE(steady.Start().exit_code == 0);
  std::this_thread::sleep_for(500ms);  // past start-up allocations
  const int renderer = RendererPid(steady.state_dir());
  const uint64_t rss_before = RssKiB(renderer);
  REQUIRE(rss_before > 0);

  std::vector<std::string> ids;
  const auto t0 = std::chrono::steady_clock::now();
  int runc_failed = 0;
  for (int i = 0; i < cycles; ++i) {
    Container c({.memory_limit = 64ull << 20});
    ids.push_back(c.id());
    runc_failed += c.Start().exit_code != 0;
  }
  const double runc_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

  int podman_failed = 0;
  double podman_s = 0;
  {
    EngineContainer session(Engine::kPodmanRunc, {});
    REQUIRE_MESSAGE(session.start().exit_code == 0, session.start().err);
    ids.push_back(session.id());
    const auto t1 = std::chrono::steady_clock::now();
    for (int i = 0; i < cycles; ++i) {
      std::string id;
      RunResult r = session.Cycle(&id);
      if (!id.empty()) ids.push_back(id);
      podman_failed += r.exit_code != 0;
    }
    podman_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t1).count();
  }

  const uint64_t rss_after = RssKiB(renderer);
  MESSAGE("soak: " << cycles << " runc cycles in " << runc_s << " s, " << cycles << " podman cycles in "
                   << podman_s << " s; steady renderer RSS " << rss_before << " -> " << rss_after << " KiB");
  CHECK(runc_failed == 0);
  CHECK(podman_failed == 0);
  Leftovers left;
  CHECK(WaitFor(20s, [&] {
    left = Count(ids);
    return left.renderers == 0 && left.state_dirs == 0 && left.mounts == 0;
  }));
  CHECK(left.renderers == 0);
  CHECK(left.state_dirs == 0);
  CHECK(left.mounts == 0);
  CHECK(rss_after <= rss_before + 256);  // KiB: flat, not growing with refreshes
  // The steady container is still served.
  CHECK(MeminfoFields(steady.Exec({"cat", "/proc/meminfo"}).out).at("MemTotal") == 262144);
}
