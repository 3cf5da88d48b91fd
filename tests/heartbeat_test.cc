// Heartbeat and the refresh summary in a fixture state directory: what
// `prochook ps` reads when files fail.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/stat.h>

#include <string>
#include <vector>

#include "common/io.h"
#include "renderer/heartbeat.h"
#include "renderer/loop.h"
#include "state/record.h"
#include "tests/testing.h"

using namespace prochook;
using prochook::testing::TempDir;

namespace {

void SetMtime(const std::string& path, time_t when) {
  struct timespec ts[2] = {{when, 0}, {when, 0}};
  REQUIRE(::utimensat(AT_FDCWD, path.c_str(), ts, 0) == 0);
}

time_t Mtime(const std::string& path) {
  struct stat st;
  REQUIRE(::stat(path.c_str(), &st) == 0);
  return st.st_mtim.tv_sec;
}

}  // namespace

TEST_CASE("Heartbeat: only a refresh that wrote a file moves the mtime; problems are published, then removed") {
  TempDir t;
  const std::string dir = t.path(), problems = dir + "/" + kProblemsFile;
  t.Write({{std::string(kProblemsFile), "left by an earlier renderer\n"}});
  Heartbeat beat(dir);
  SetMtime(dir, 1000);

  // Every file failed: the file says why, the mtime stays (its creation
  // or rewrite does not count as a refresh).
  beat.Beat(false, {"meminfo: read /proc/meminfo: Input/output error", "stat: host stat: multi\nline"});
  CHECK(ReadFile(problems).value() ==
        "meminfo: read /proc/meminfo: Input/output error\nstat: host stat: multi line\n");
  CHECK(Mtime(dir) == 1000);
  beat.Beat(false, {"meminfo: shorter"});
  CHECK(ReadFile(problems).value() == "meminfo: shorter\n");
  CHECK(Mtime(dir) == 1000);

  // Some files written: the heartbeat moves, the problem stays listed.
  beat.Beat(true, {"meminfo: shorter"});
  CHECK(Mtime(dir) > 1000);
  CHECK(ReadFile(problems).value() == "meminfo: shorter\n");

  // All well: the file goes.
  SetMtime(dir, 2000);
  beat.Beat(true, {});
  CHECK_FALSE(ReadFile(problems).ok());
  CHECK(Mtime(dir) > 2000);

  // A failure after all was well, with nothing written: mtime kept.
  SetMtime(dir, 3000);
  beat.Beat(false, {"loadavg: gone"});
  CHECK(ReadFile(problems).value() == "loadavg: gone\n");
  CHECK(Mtime(dir) == 3000);
}

TEST_CASE("A refresh whose every file fails renders nothing and names each failure") {
  TempDir t;
  ContainerRecord r;
  r.id = "ct";
  r.pid = 1;
  r.files = {"loadavg"};  // no cgroup: the container's tasks cannot be read
  const RenderSummary s = RenderAllOnce(t.path(), r);
  CHECK(s.rendered.empty());
  CHECK(s.problems == std::vector<std::string>{"loadavg: the container's tasks cannot be read"});
}
