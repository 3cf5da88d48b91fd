// An OCI id is unique only within one runtime root (or containerd
// namespace): two runc roots may each run a container "web" at once. Each
// must get its own state, its own renderer and its own cleanup.
#include <doctest/doctest.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "common/io.h"
#include "common/proc.h"
#include "state/record.h"
#include "state/state_dir.h"
#include "tests/e2e/harness.h"
#include "tests/testing.h"

namespace fs = std::filesystem;
using namespace prochook::e2e;
using namespace std::chrono_literals;

using prochook::testing::Sleeper;

namespace {

std::map<std::string, uint64_t> Meminfo(const Container& c) {
  return MeminfoFields(c.Exec({"cat", "/proc/meminfo"}).out);
}

uint64_t MemFree(const Container& c) { return Meminfo(c)["MemFree"]; }

// Writes 64 MiB to c's tmpfs (charged to its memory cgroup) and tells
// whether c's MemFree fell by about that much within a few intervals;
// `others` must not see it. The file is removed again, and c's MemFree
// seen to rise by as much (so that the next call's "before" is not a
// rendering from before the removal: a read may be one interval old).
bool WriteSeenOnlyBy(const Container& c, const std::vector<const Container*>& others) {
  const uint64_t before = MemFree(c);
  std::vector<uint64_t> others_before;
  for (const Container* o : others) others_before.push_back(MemFree(*o));
  RunResult dd = c.Exec({"dd", "if=/dev/zero", "of=/tmp/fill", "bs=1M", "count=64"});
  REQUIRE_MESSAGE(dd.exit_code == 0, dd.err);
  uint64_t filled = before;
  const bool seen = WaitFor(3s, [&] {
    filled = MemFree(c);
    return before - std::min(before, filled) >= 60 * 1024;
  });
  INFO("MemFree before " << before << " kB, now " << MemFree(c) << " kB");
  CHECK(seen);
  for (size_t i = 0; i < others.size(); ++i) {
    const uint64_t now = MemFree(*others[i]);
    INFO("the other container's MemFree before " << others_before[i] << " kB, now " << now << " kB");
    CHECK(others_before[i] - std::min(others_before[i], now) < 16 * 1024);
  }
  CHECK(c.Exec({"rm", "/tmp/fill"}).exit_code == 0);
  CHECK(WaitFor(3s, [&] { return MemFree(c) >= filled + 60 * 1024; }));
  return seen;
}

// The containers `prochook ps --json` lists under this id.
int ListedAs(const std::string& id) {
  auto ps = nlohmann::json::parse(Run({ProchookBinary(), "ps", "--json"}).out, nullptr, false);
  if (ps.is_discarded()) return -1;
  int n = 0;
  for (const auto& c : ps["containers"]) n += c["id"] == id;
  return n;
}

}  // namespace

TEST_CASE("identity: one id in two runc roots, both running: each served, refreshed and cleaned up alone") {
  if (SkipUnlessReady()) return;
  const std::string id = "web-" + std::to_string(getpid());
  const std::map<std::string, std::string> fast = {{"io.prochook.interval", "250ms"}};
  Container a({.memory_limit = 256ull << 20, .annotations = fast, .id = id});
  Container b({.memory_limit = 384ull << 20, .annotations = fast, .id = id});
  REQUIRE_MESSAGE(a.Start().exit_code == 0, "runc run a");
  REQUIRE_MESSAGE(b.Start().exit_code == 0, "runc run b");
  INFO("hook log:\n" << HookLogFor(id));

  // Both served, each with its own limit (the host has far more).
  CHECK(Meminfo(a)["MemTotal"] == 262144);
  CHECK(Meminfo(b)["MemTotal"] == 393216);
  CHECK(a.state_dir() != b.state_dir());
  CHECK(fs::exists(a.state_dir() + "/state.json"));
  CHECK(fs::exists(b.state_dir() + "/state.json"));
  CHECK(ListedAs(id) == 2);

  // Each one's renderer refreshes its files, and only its files.
  CHECK(WriteSeenOnlyBy(a, {&b}));
  CHECK(WriteSeenOnlyBy(b, {&a}));

  // Stopping a (its poststop hook runs, its renderer sees its init exit)
  // leaves b served and refreshing.
  const int b_renderer = RendererPid(b);
  a.Stop();
  CHECK(WaitFor(10s, [&] { return !fs::exists(a.state_dir()); }));
  CHECK(fs::exists(b.state_dir() + "/state.json"));
  CHECK(RendererPid(b) == b_renderer);
  CHECK(Alive(b_renderer));
  CHECK(ListedAs(id) == 1);
  CHECK(WriteSeenOnlyBy(b, {}));

  b.Stop();
  CHECK(WaitFor(10s, [&] { return !fs::exists(b.state_dir()) && !Alive(b_renderer); }));
  CHECK(ListedAs(id) == 0);
}

// Two containers with one id and one bundle (two runtime roots) share a
// state directory name: the one whose init runs keeps it.
TEST_CASE("identity: a state directory whose init still runs is never taken over or removed by another hook") {
  if (SkipUnlessReady()) return;
  char tmpl[] = "/tmp/prochook-guard-XXXXXX";
  REQUIRE(::mkdtemp(tmpl) != nullptr);
  const std::string tmp = tmpl;
  const std::string run = tmp + "/run", bundle = tmp + "/bundle";
  // A hook that finds the run dir empty makes it an XFS store (a loop
  // mount), which a failing test must not leave behind.
  struct Remove {
    std::string tmp, run;
    ~Remove() {
      ::umount2(run.c_str(), MNT_DETACH);
      fs::remove_all(tmp);
    }
  } remove{tmp, run};
  fs::create_directories(bundle + "/rootfs");
  Sleeper other_init, other_renderer, our_init;
  const std::string dir = prochook::StateDirPath(run, "web", bundle);
  REQUIRE(prochook::CreateStateDir(run, dir).ok());
  prochook::ContainerRecord record;
  record.id = "web";
  record.pid = other_init.pid;
  record.pid_start = prochook::ReadProcessStartTime(other_init.pid).value();
  REQUIRE(prochook::WriteFileAtomic(dir + "/state.json", prochook::SerializeRecord(record), 0600).ok());
  REQUIRE(prochook::WriteRendererPid(dir, other_renderer.pid).ok());
  const std::string hook_log = run + "/hook.log";

  for (const std::string policy : {"fail-open", "fail-closed"}) {
    CAPTURE(policy);
    std::ofstream(bundle + "/config.json")
        << R"({"ociVersion":"1.0.2","root":{"path":"rootfs"},"annotations":{"io.prochook.policy":")" << policy
        << R"("}})";
    RunResult r = Run({ProchookBinary(), "hook", "--run-dir", run},
                      R"({"id":"web","status":"creating","pid":)" + std::to_string(our_init.pid) +
                          R"(,"bundle":")" + bundle + R"("})");
    INFO("hook: " << r.err);
    CHECK(r.exit_code == (policy == "fail-open" ? 0 : 1));
    CHECK(r.err.find("belongs to another running container with this id (init " +
                     std::to_string(other_init.pid) + ")") != std::string::npos);
  }
  // Our container's poststop: the directory is the other's.
  const std::string stopped = R"({"id":"web","status":"stopped","pid":0,"bundle":")" + bundle + R"("})";
  RunResult post = Run({ProchookBinary(), "hook", "poststop", "--run-dir", run}, stopped);
  INFO("poststop: " << post.err);
  CHECK(post.exit_code == 0);
  CHECK(ReadText(dir + "/state.json") == prochook::SerializeRecord(record));
  CHECK_FALSE(other_renderer.Exited());

  // The other's poststop, once its init has exited, removes it.
  other_init.Kill();
  post = Run({ProchookBinary(), "hook", "poststop", "--run-dir", run}, stopped);
  CHECK(post.exit_code == 0);
  CHECK_FALSE(fs::exists(dir));
  CHECK(WaitFor(2s, [&] { return other_renderer.Exited(); }));
  other_renderer.pid = -1;
}
