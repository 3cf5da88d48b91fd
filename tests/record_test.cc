#include <doctest/doctest.h>

#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/io.h"
#include "common/proc.h"
#include "renderer/writer.h"
#include "state/record.h"
#include "state/state_dir.h"
#include "tests/testing.h"

using namespace prochook;
using prochook::testing::TempDir;

TEST_CASE("ContainerRecord survives a round trip through state.json") {
  ContainerRecord r;
  r.id = "abc";
  r.pid = 1234;
  r.pid_start = 987654321;
  r.rootfs = "/var/lib/x/rootfs";
  r.interval_ms = 250;
  r.idle_ms = 0;
  r.files = {"meminfo"};
  r.cpu_view_quota = false;
  r.container_uptime = true;
  r.clock_offset_s = -24880;
  r.cgroups["memory"] = {1, "/sys/fs/cgroup/memory/a", "/sys/fs/cgroup/memory"};
  r.cgroups["cpuset"] = {};  // absent controllers are not written
  auto back = ParseRecord(SerializeRecord(r));
  REQUIRE(back.ok());
  CHECK(back->id == "abc");
  CHECK(back->pid == 1234);
  CHECK(back->pid_start == 987654321u);
  CHECK(back->rootfs == r.rootfs);
  CHECK(back->interval_ms == 250);
  CHECK(back->idle_ms == 0);
  CHECK(back->files == r.files);
  CHECK_FALSE(back->cpu_view_quota);
  CHECK(back->show_swap);
  CHECK(back->container_uptime);
  CHECK(back->clock_offset_s == -24880);
  CHECK(back->own_clock());
  CHECK(back->cgroups.at("memory").dir == "/sys/fs/cgroup/memory/a");
  CHECK(back->cgroups.count("cpuset") == 0);
  CHECK_FALSE(ParseRecord(R"({"id":"x"})").ok());
  CHECK_FALSE(ParseRecord("{").ok());
}

TEST_CASE("ValidateContainerId refuses names that could leave the run directory") {
  for (const char* good : {"abc", "0123456789abcdef", "my.ctr_1-2", "k8s+x"}) {
    CAPTURE(good);
    CHECK(ValidateContainerId(good).ok());
  }
  for (const char* bad : {"", ".", "..", "a/b", "../x", "a b", "a\nb", "ä"}) {
    CAPTURE(bad);
    CHECK_FALSE(ValidateContainerId(bad).ok());
  }
  CHECK_FALSE(ValidateContainerId(std::string(2000, 'a')).ok());
}

TEST_CASE("ParseStartTime reads field 22 after the comm, even when comm holds spaces and parens") {
  // Real lines; then a comm with spaces and parentheses.
  CHECK(ParseStartTime("1 (process_api) S 0 0 0 0 -1 4194560 67050 8357217 0 2432 1817 3120 "
                       "31813 9985 10 -10 14 0 18 43466752 2773 18446744073709551615 1 1 0 0 0 "
                       "0 0 4096 1256 0 0 0 17 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n")
            .value() == 18u);
  CHECK(ParseStartTime("26034 (cat) R 26031 26031 22039 0 -1 4194304 100 0 0 0 0 0 0 0 20 0 1 0 "
                       "2003620 3133440 416 18446744073709551615\n")
            .value() == 2003620u);
  CHECK(ParseStartTime("7 (a) b (c)) S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 4242 0 0\n").value() ==
        4242u);
  CHECK_FALSE(ParseStartTime("7 (a S 1 1").ok());
  CHECK_FALSE(ParseStartTime("7 (a) S 1 1 1\n").ok());
  CHECK_FALSE(ParseStartTime("7 (a) S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 x 0\n").ok());
  auto self = ReadProcessStartTime(getpid());
  CHECK(self.ok());
}

TEST_CASE("State directory: create, refuse a second create, remove with its files") {
  TempDir t;
  const std::string run = t.path() + "/run";
  const std::string dir = StateDirPath(run, "c1", "/bundle");
  REQUIRE(CreateStateDir(run, dir).ok());
  struct stat st;
  REQUIRE(::stat(dir.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0700);
  CHECK(CreateStateDir(run, dir).error().err() == EEXIST);
  REQUIRE(WriteFileAtomic(dir + "/state.json", "{}", 0600).ok());
  REQUIRE(WriteRendererPid(dir, getpid()).ok());
  CHECK(LiveRendererPid(dir) == getpid());
  // A pid file whose start time does not match names some other process.
  REQUIRE(WriteFileAtomic(dir + "/renderer.pid", std::to_string(getpid()) + " 1\n", 0600).ok());
  CHECK_FALSE(LiveRendererPid(dir).has_value());
  REQUIRE(RemoveStateDir(dir).ok());
  CHECK(::stat(dir.c_str(), &st) != 0);
  CHECK(RemoveStateDir(dir).ok());  // already gone is fine
}

TEST_CASE("FileStore updates in place: same inode, grows and shrinks exactly") {
  TempDir t;
  const std::string path = t.path() + "/meminfo";
  auto store = FileStore::Open(path);
  REQUIRE(store.ok());
  struct stat before;
  REQUIRE(::stat(path.c_str(), &before) == 0);
  CHECK((before.st_mode & 0777) == 0644);
  REQUIRE(store->Update("a longer first version\n").ok());
  CHECK(ReadFile(path).value() == "a longer first version\n");
  REQUIRE(store->Update("short\n").ok());
  CHECK(ReadFile(path).value() == "short\n");
  REQUIRE(store->Update("grown again, longer than before\n").ok());
  CHECK(ReadFile(path).value() == "grown again, longer than before\n");
  struct stat after;
  REQUIRE(::stat(path.c_str(), &after) == 0);
  CHECK(after.st_ino == before.st_ino);
  // Reopening an existing file replaces whatever it held.
  auto again = FileStore::Open(path);
  REQUIRE(again.ok());
  REQUIRE(again->Update("x\n").ok());
  CHECK(ReadFile(path).value() == "x\n");
}

TEST_CASE("FileStore takes over an existing file at its length, and empties it exactly") {
  TempDir t;
  const std::string path = t.path() + "/stat";
  {
    auto store = FileStore::Open(path);
    REQUIRE(store.ok());
    REQUIRE(store->Update("cpu  1 2 3 4 5 6 7 8 9 10\nbtime 1\n").ok());
  }
  // A restarted renderer: shrinking from the length the file has.
  auto again = FileStore::Open(path);
  REQUIRE(again.ok());
  REQUIRE(again->Update("cpu  1 2\nbtime 1\n").ok());
  CHECK(ReadFile(path).value() == "cpu  1 2\nbtime 1\n");
  REQUIRE(again->Update("").ok());
  CHECK(ReadFile(path).value() == "");
  REQUIRE(again->Update("no newline").ok());
  CHECK(ReadFile(path).value() == "no newline");
  REQUIRE(again->Update("no").ok());
  CHECK(ReadFile(path).value() == "no");
}

TEST_CASE("ParseRecord refuses numbers that do not fit, found by fuzzing") {
  // A pid too large for any integer type parses as a double; converting it
  // was undefined behaviour (UBSan) before the range checks.
  CHECK_FALSE(ParseRecord(R"({"id":"abc","pid":4244400000000000000000000000007173733806700000000000})").ok());
  const std::string good = R"({"id":"a","pid":7,"pid_start":5,"rootfs":"/r","interval_ms":1000,"files":[],)"
                           R"("cpu_view_quota":true,"show_swap":true,"container_uptime":false,"cgroups":{}})";
  REQUIRE(ParseRecord(good).ok());
  // The state of an earlier version has no idle_ms: idle mode's default.
  CHECK(ParseRecord(good)->idle_ms == 10000);
  CHECK(ParseRecord(R"({"idle_ms":0,)" + good.substr(1))->idle_ms == 0);
  CHECK_FALSE(ParseRecord(R"({"idle_ms":-1,)" + good.substr(1)).ok());
  for (auto [from, to] : std::vector<std::pair<std::string, std::string>>{
           {"\"pid\":7", "\"pid\":1.5"},
           {"\"pid\":7", "\"pid\":-7"},
           {"\"pid\":7", "\"pid\":4294967296"},
           {"\"interval_ms\":1000", "\"interval_ms\":5"},
           {"\"cgroups\":{}", "\"cgroups\":{\"memory\":{\"version\":3,\"dir\":\"/d\",\"mount\":\"/m\"}}"},
           {"\"cgroups\":{}", "\"cgroups\":{\"memory\":[]}"}}) {
    std::string bad = good;
    bad.replace(bad.find(from), from.size(), to);
    CAPTURE(bad);
    CHECK_FALSE(ParseRecord(bad).ok());
  }
}

TEST_CASE("State directory names: the id and a stable hash of bundle and id") {
  // FNV-1a 64 reference values (draft-eastlake-fnv): stable across builds.
  CHECK(StableHash("") == 0xcbf29ce484222325ull);
  CHECK(StableHash("a") == 0xaf63dc4c8601ec8cull);
  CHECK(StableHash("foobar") == 0x85944171f73967e8ull);
  const std::string name = StateDirName("web", "/run/a");
  CHECK(name.rfind("web.", 0) == 0);
  CHECK(name.size() == 4 + 16);
  CHECK(name == StateDirName("web", "/run/a"));
  CHECK(name != StateDirName("web", "/run/b"));
  CHECK(StateDirPath("/run/prochook", "web", "/run/a") == "/run/prochook/" + name);
  CHECK(ValidateContainerId(name).ok());  // `repair` and `ps` list it
  const std::string long_id(300, 'x');
  CHECK(StateDirName(long_id, "/b").size() == kMaxIdInName + 1 + 16);
}

TEST_CASE("InitAlive: the recorded process, until it exits (a zombie counts as exited)") {
  int go[2];
  REQUIRE(::pipe(go) == 0);
  const pid_t child = ::fork();
  if (child == 0) {
    ::close(go[1]);
    char c;
    (void)!::read(go[0], &c, 1);
    _exit(0);
  }
  ::close(go[0]);
  ContainerRecord r;
  r.pid = child;
  r.pid_start = ReadProcessStartTime(child).value();
  CHECK(InitAlive(r));
  ContainerRecord other = r;
  other.pid_start += 1;  // the same pid, another process
  CHECK_FALSE(InitAlive(other));
  ::close(go[1]);  // the child exits; not reaped yet
  siginfo_t info;
  REQUIRE(::waitid(P_PID, child, &info, WEXITED | WNOWAIT) == 0);
  CHECK_FALSE(InitAlive(r));
  ::waitpid(child, nullptr, 0);
  CHECK_FALSE(InitAlive(r));
}
