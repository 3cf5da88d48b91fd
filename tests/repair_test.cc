// The hook's repair stays off the start path's bill: one start-path Repair
// looks at a constant number of state directories however many there are,
// and continues where the last stopped, so a broken one is still reached.
#include <doctest/doctest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <set>
#include <string>

#include "common/io.h"
#include "hook/repair.h"
#include "state/record.h"
#include "state/state_dir.h"
#include "tests/testing.h"

using namespace prochook;
using prochook::testing::OpenWatch;
using prochook::testing::TempDir;

namespace {

// A run directory of n state directories whose renderer is alive (this
// test process stands in for it), each watched for opens; plus the files
// the hook keeps there.
struct RunDir {
  explicit RunDir(int n) {
    t.Write({{kHookLogFile, "earlier lines\n"}});
    for (int i = 0; i < n; ++i) {
      char name[16];
      std::snprintf(name, sizeof name, "c%03d", i);
      const std::string dir = t.path() + "/" + name;
      std::filesystem::create_directory(dir);
      REQUIRE(WriteRendererPid(dir, ::getpid()).ok());
      watch.Add(dir);
    }
  }
  // Makes a directory's container gone: no renderer, and an init that no
  // longer exists (a pid above any pid_max). Repair removes it.
  void Break(const std::string& name) const {
    const std::string dir = t.path() + "/" + name;
    std::filesystem::remove(dir + "/" + kRendererPidFile);
    ContainerRecord r;
    r.id = name;
    r.pid = 999999999;
    r.pid_start = 1;
    t.Write({{name + "/" + kRecordFile, SerializeRecord(r)}});
  }
  RepairReport StartPathRepair() const {
    return Repair(t.path(), "", std::chrono::steady_clock::time_point::max(), kRepairOnStart);
  }

  TempDir t;
  OpenWatch watch;
};

}  // namespace

TEST_CASE("A start-path repair looks at kRepairOnStart of 100 state directories") {
  RunDir run(100);
  auto r = run.StartPathRepair();
  CHECK(r.problems.empty());
  const auto opened = run.watch.Opened();
  CHECK(opened.size() >= 1);
  CHECK(opened.size() <= kRepairOnStart);
  // What every hook invocation did before the bound (and `prochook repair`
  // still does): all of them.
  Repair(run.t.path());
  CHECK(run.watch.Opened().size() == 100);
}

TEST_CASE("A broken directory among 100 is repaired within 100 / kRepairOnStart + 1 start-path repairs") {
  RunDir run(100);
  run.Break("c057");
  run.watch.Opened();  // Break's own writes
  std::set<std::string> looked_at;
  int removed_at = 0;
  for (int i = 1; i <= 100 / static_cast<int>(kRepairOnStart) + 1; ++i) {
    auto r = run.StartPathRepair();
    CHECK(r.problems.empty());
    const auto opened = run.watch.Opened();
    CHECK(opened.size() <= kRepairOnStart);
    looked_at.insert(opened.begin(), opened.end());
    if (!r.removed.empty()) {
      CHECK(r.removed == std::vector<std::string>{"c057"});
      CHECK(removed_at == 0);
      removed_at = i;
    }
  }
  CHECK(removed_at > 0);
  CHECK_FALSE(std::filesystem::exists(run.t.path() + "/c057"));
  CHECK(looked_at.size() == 100);  // every directory, in one pass
}

TEST_CASE("A start-path repair skips the container being set up (named by its directory)") {
  RunDir run(2);
  run.Break("c000");
  run.Break("c001");
  auto r = Repair(run.t.path(), "c000", std::chrono::steady_clock::time_point::max(), kRepairOnStart);
  CHECK(r.removed == std::vector<std::string>{"c001"});
  CHECK(std::filesystem::exists(run.t.path() + "/c000"));
}
