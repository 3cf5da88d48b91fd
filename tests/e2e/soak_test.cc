// Lifecycle soak: SOAK_CYCLES (default 500) start/stop cycles with runc and
// with podman, next to a long-lived container whose renderer refreshes every
// 10 ms. Every cycled container must have been served (its mounts in its
// mount namespace, or the hook's "serving" line for podman's); afterwards no
// renderer or state dir of them is left (their mounts went with their mount
// namespaces), and the long-lived renderer's memory did not grow.
#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

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

// What is left of the cycled containers: runc's by their state dirs,
// podman's (whose state dirs the test never sees) by the ids `prochook ps`
// lists, and renderers of any state dir that no longer exists.
struct Leftovers {
  int renderers = 0, state_dirs = 0;
};
Leftovers Count(const std::vector<std::string>& state_dirs, const std::vector<std::string>& ids) {
  Leftovers l;
  for (const auto& dir : state_dirs) {
    l.state_dirs += fs::exists(dir);
    l.renderers += RenderersOf(dir);
  }
  auto listed = nlohmann::json::parse(Run({ProchookBinary(), "ps", "--json"}).out, nullptr, false);
  if (!listed.is_discarded()) {
    for (const auto& e : listed["containers"]) {
      l.state_dirs += std::count(ids.begin(), ids.end(), e["id"].get<std::string>());
    }
  }
  for (const auto& p : fs::directory_iterator("/proc")) {
    std::istringstream cmd(ReadText((p.path() / "cmdline").string()));
    for (std::string arg; std::getline(cmd, arg, '\0');) {
      if (arg == "--state-dir" && std::getline(cmd, arg, '\0') && !fs::exists(arg)) ++l.renderers;
    }
  }
  return l;
}

}  // namespace

TEST_CASE("soak: runc and podman start/stop cycles leak nothing; a busy renderer's memory stays flat") {
  if (SkipUnlessReady(EngineTools(Engine::kPodmanRunc))) return;
  const int cycles = Cycles();
  Container steady({.annotations = {{"io.prochook.interval", "10ms"}}});
  REQUIRE(steady.Start().exit_code == 0);
  RequireServed(steady);
  std::this_thread::sleep_for(500ms);  // past start-up allocations
  const int renderer = RendererPid(steady);
  const uint64_t rss_before = RssKiB(renderer);
  REQUIRE(rss_before > 0);

  std::vector<std::string> state_dirs, ids;
  const auto t0 = std::chrono::steady_clock::now();
  int runc_failed = 0, runc_unserved = 0;
  for (int i = 0; i < cycles; ++i) {
    Container c({.memory_limit = 64ull << 20});
    state_dirs.push_back(c.state_dir());
    runc_failed += c.Start().exit_code != 0;
    const auto mounts = ServedMounts(c);
    runc_unserved += std::count(mounts.begin(), mounts.end(), "/proc/meminfo") != 1;
  }
  const double runc_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

  int podman_failed = 0, podman_unserved = 0;
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
      podman_unserved += id.empty() || HookLogFor(id).find("serving ") == std::string::npos;
    }
    podman_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t1).count();
  }

  const uint64_t rss_after = RssKiB(renderer);
  MESSAGE("soak: " << cycles << " runc cycles in " << runc_s << " s, " << cycles << " podman cycles in "
                   << podman_s << " s; steady renderer RSS " << rss_before << " -> " << rss_after << " KiB");
  CHECK(runc_failed == 0);
  CHECK(podman_failed == 0);
  CHECK(runc_unserved == 0);
  CHECK(podman_unserved == 0);
  Leftovers left;
  CHECK(WaitFor(20s, [&] {
    left = Count(state_dirs, ids);
    return left.renderers == 0 && left.state_dirs == 0;
  }));
  CHECK(left.renderers == 0);
  CHECK(left.state_dirs == 0);
  CHECK(rss_after <= rss_before + 256);  // KiB: flat, not growing with refreshes
  // The steady container is still served.
  RequireServed(steady);
  CHECK(MeminfoFields(steady.Exec({"cat", "/proc/meminfo"}).out).at("MemTotal") == 262144);
}
