// cgroup v2 paths against the real kernel: runs in the unified-cgroup guest
// of the VM lane (tests/vm/run.sh), where the kernel, not a fixture, writes
// memory.max, memory.swap.*, cpu.max, io.stat, cgroup.threads and PSI. On
// a host that is not unified it has nothing to test and fails in CI
// (tagged manual: `bazel test //...` leaves it to the lane).
#include <doctest/doctest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "tests/e2e/engines.h"
#include "tests/e2e/harness.h"
#include "tests/testing.h"

namespace fs = std::filesystem;
using namespace prochook::e2e;
using namespace std::chrono_literals;

namespace {

bool SkipUnlessUnified() {
  if (SkipUnlessReady()) return true;
  return !UnifiedCgroups() &&
         prochook::testing::SkipOrFailInCi("not a unified cgroup host (tests/vm/run.sh runs this)");
}

void WriteCgroup(const std::string& path, const std::string& value) {
  std::ofstream f(path);
  f << value;
  f.close();
  REQUIRE_MESSAGE(f.good(), "writing " << value << " to " << path);
}

std::map<std::string, uint64_t> ContainerMeminfo(const Container& c) {
  RunResult r = c.Exec({"cat", "/proc/meminfo"});
  REQUIRE(r.exit_code == 0);
  return MeminfoFields(r.out);
}

// Reads a file in the container twice, 1.5 s apart: the first read wakes an
// idle renderer, the second sees what it rendered since. A Container or an
// EngineContainer.
template <class C>
std::string FreshRead(const C& c, const std::string& path) {
  REQUIRE(c.Exec({"cat", path}).exit_code == 0);
  std::this_thread::sleep_for(1500ms);
  RunResult r = c.Exec({"cat", path});
  REQUIRE(r.exit_code == 0);
  return r.out;
}

// The fields of a /proc/diskstats line for `device` (empty if none).
std::vector<uint64_t> DiskFields(const std::string& diskstats, const std::string& device) {
  std::istringstream lines(diskstats);
  for (std::string line; std::getline(lines, line);) {
    std::istringstream in(line);
    uint64_t major, minor;
    std::string name;
    in >> major >> minor >> name;
    if (name != device) continue;
    std::vector<uint64_t> v;
    for (uint64_t x; in >> x;) v.push_back(x);
    return v;
  }
  return {};
}

// "total=N" of the "some" line of a PSI file.
uint64_t PsiSomeTotal(const std::string& text) {
  const size_t at = text.find("total=");
  REQUIRE(at != std::string::npos);
  return std::stoull(text.substr(at + 6));
}

}  // namespace

TEST_CASE("cgroup2: memory.max, memory.current and memory.swap.max: MemTotal, MemFree after 64 MiB, SwapTotal, /proc/swaps") {
  if (SkipUnlessUnified()) return;
  Container c({});
  REQUIRE(c.Start().exit_code == 0);
  REQUIRE(ReadText(c.CgroupDir("memory") + "/memory.max") == "268435456\n");
  auto before = ContainerMeminfo(c);
  CHECK(before.at("MemTotal") == 262144);

  REQUIRE(c.Exec({"dd", "if=/dev/zero", "of=/tmp/fill", "bs=1M", "count=64"}).exit_code == 0);
  auto after = MeminfoFields(FreshRead(c, "/proc/meminfo"));
  INFO("MemFree " << before.at("MemFree") << " -> " << after.at("MemFree"));
  // 64 MiB of shmem, less whatever page cache the kernel reclaimed for it.
  CHECK(before.at("MemFree") - after.at("MemFree") >= 56 * 1024);
  CHECK(after.at("Shmem") >= 64 * 1024);

  // Swap, where the guest has some: the container's own limit.
  if (MeminfoFields(ReadText("/proc/meminfo")).at("SwapTotal") > 0) {
    WriteCgroup(c.CgroupDir("memory") + "/memory.swap.max", std::to_string(128ull << 20));
    auto swapped = MeminfoFields(FreshRead(c, "/proc/meminfo"));
    CHECK(swapped.at("SwapTotal") == 131072);
    const std::string swaps = FreshRead(c, "/proc/swaps");
    INFO(swaps);
    CHECK(swaps.find("131072") != std::string::npos);
  } else {
    FAIL("the guest has no swap (tests/vm/guest-init.sh makes some)");
  }
}

TEST_CASE("cgroup2: a memory limit set only on the parent cgroup (nested) is the container's MemTotal") {
  if (SkipUnlessUnified()) return;
  Container::Options o;
  o.memory_limit = 0;
  Container c(o);
  REQUIRE(c.Start().exit_code == 0);
  REQUIRE(ReadText(c.CgroupDir("memory") + "/memory.max") == "max\n");
  WriteCgroup(c.ParentCgroupDir("memory") + "/memory.max", std::to_string(192ull << 20));
  CHECK(MeminfoFields(FreshRead(c, "/proc/meminfo")).at("MemTotal") == 196608);
}

TEST_CASE("cgroup2: cpu.max of one CPU and a one-CPU cpuset: one CPU in cpuinfo, /proc/stat, /sys and mpstat") {
  if (SkipUnlessUnified()) return;
  const unsigned host_cpus = std::thread::hardware_concurrency();
  REQUIRE(host_cpus >= 2);  // the guest has two: one visible is a real cut
  for (const bool quota : {true, false}) {
    CAPTURE(quota);
    Container::Options o;
    if (quota) o.cpu_quota_us = 100000; else o.cpus = "1";
    Container c(o);
    REQUIRE(c.Start().exit_code == 0);
    if (quota) CHECK(ReadText(c.CgroupDir("cpu") + "/cpu.max") == "100000 100000\n");
    RunResult cpuinfo = c.Exec({"grep", "-c", "^processor", "/proc/cpuinfo"});
    CHECK(cpuinfo.out == "1\n");
    RunResult stat = c.Exec({"grep", "-c", "^cpu[0-9]", "/proc/stat"});
    CHECK(stat.out == "1\n");
    CHECK(c.Exec({"cat", "/sys/devices/system/cpu/online"}).out == "0\n");
    RunResult mpstat = c.Exec({"mpstat", "-P", "ALL", "1", "1"});
    INFO(mpstat.out);
    CHECK(mpstat.out.find("(1 CPU)") != std::string::npos);
  }
}

TEST_CASE("cgroup2: io.stat: diskstats shows the container's own reads and writes of the guest's virtio disk") {
  if (SkipUnlessUnified()) return;
  const std::string data = "/mnt/prochook-io-" + std::to_string(getpid());
  fs::create_directories(data);
  Container::Options o;
  o.binds = {{"/data", data}};
  Container c(o);
  REQUIRE(c.Start().exit_code == 0);
  REQUIRE(c.Exec({"dd", "if=/dev/zero", "of=/data/f", "bs=1M", "count=8", "oflag=direct"}).exit_code == 0);
  REQUIRE(c.Exec({"dd", "if=/data/f", "of=/dev/null", "bs=1M", "iflag=direct"}).exit_code == 0);
  const std::string io_stat = ReadText(c.CgroupDir("io") + "/io.stat");
  INFO("io.stat: " << io_stat);
  const auto mine = DiskFields(FreshRead(c, "/proc/diskstats"), "vda");
  const auto host = DiskFields(ReadText("/proc/diskstats"), "vda");
  REQUIRE(mine.size() >= 7);
  REQUIRE(host.size() >= 7);
  // Fields after the name: reads, merged, sectors read, ms, writes, merged,
  // sectors written.
  CHECK(mine[2] >= 16384);
  CHECK(mine[6] >= 16384);
  CHECK(mine[2] < host[2]);  // not the host's: the guest read far more while booting
  fs::remove_all(data);
}

TEST_CASE("cgroup2: loadavg counts the container's threads from cgroup.threads and its two busy loops") {
  if (SkipUnlessUnified()) return;
  Container c({});
  REQUIRE(c.Start().exit_code == 0);
  // The loops must not hold runc exec's output pipes, or it never returns.
  REQUIRE(c.Exec({"sh", "-c", "for i in 1 2; do (while :; do :; done) </dev/null >/dev/null 2>&1 & done"}).exit_code == 0);
  std::this_thread::sleep_for(6s);
  const std::string load = FreshRead(c, "/proc/loadavg");
  INFO("loadavg: " << load);
  std::istringstream in(load);
  double one, five, fifteen;
  std::string tasks;
  in >> one >> five >> fifteen >> tasks;
  const int running = std::stoi(tasks.substr(0, tasks.find('/')));
  const int total = std::stoi(tasks.substr(tasks.find('/') + 1));
  std::istringstream threads(ReadText(c.CgroupDir("cpu") + "/cgroup.threads"));
  int counted = 0;
  for (std::string line; std::getline(threads, line);) ++counted;
  // The snapshot was taken while the first read's runc exec (a Go
  // process with its threads) was in the cgroup too: the count can be a
  // few above what is there now, never below, and far below the guest's.
  const std::string host = ReadText("/proc/loadavg");
  const int host_total = std::stoi(host.substr(host.find('/') + 1));
  CHECK(running >= 2);
  CHECK(total >= 3);  // sleep and two loops
  CHECK(total >= counted - 1);
  CHECK(total <= counted + 12);
  CHECK(total < host_total);
  // Two runnable tasks for 6 s: at least one 5 s sample, 2 * (1 - e^(-5/60)).
  CHECK(one >= 0.15);
}

TEST_CASE("cgroup2: /proc/pressure is the container cgroup's PSI") {
  if (SkipUnlessUnified()) return;
  Container c({});
  REQUIRE(c.Start().exit_code == 0);
  const std::string file = c.CgroupDir("memory") + "/io.pressure";
  REQUIRE(c.Exec({"cat", "/proc/pressure/io"}).exit_code == 0);  // wakes an idle renderer
  std::this_thread::sleep_for(1500ms);
  const uint64_t t0 = PsiSomeTotal(ReadText(file));
  std::this_thread::sleep_for(1500ms);
  RunResult in = c.Exec({"cat", "/proc/pressure/io"});
  const uint64_t t1 = PsiSomeTotal(ReadText(file));
  REQUIRE(in.exit_code == 0);
  const uint64_t seen = PsiSomeTotal(in.out);
  INFO("cgroup " << t0 << ".." << t1 << ", container " << seen);
  CHECK(seen >= t0);
  CHECK(seen <= t1);
  const uint64_t host = PsiSomeTotal(ReadText("/proc/pressure/io"));
  if (host > t1) CHECK(seen != host);
}

TEST_CASE("cgroup2: served with and without a cgroup namespace") {
  if (SkipUnlessUnified()) return;
  for (const bool ns : {false, true}) {
    CAPTURE(ns);
    Container::Options o;
    o.cgroup_ns = ns ? 1 : 0;
    Container c(o);
    RunResult start = c.Start();
    REQUIRE_MESSAGE(start.exit_code == 0, "runc run: " << start.err << "\nhook.log:\n" << HookLogFor(c.id()));
    RunResult cg = c.Exec({"cat", "/proc/self/cgroup"});
    INFO("/proc/self/cgroup in the container: " << cg.out);
    CHECK((cg.out == "0::/\n") == ns);
    CHECK(ContainerMeminfo(c).at("MemTotal") == 262144);
  }
}

TEST_CASE("cgroup2: a controller disabled above a running container: its figures fall back or keep, the rest refresh; enabled again, they come back") {
  if (SkipUnlessUnified()) return;
  // cgroup v2's way to lose a controller under a running container (v1:
  // its cgroup removed, conditions_test): `-<controller>` written to the
  // parent's cgroup.subtree_control removes the controller's files from
  // the container's cgroup.
  struct Case {
    std::string controller, file;
    std::string logged;  // what the renderer log says, "" for nothing
  };
  const std::vector<Case> cases = {
      {"memory", "memory.max", "memory shows host values: memory cgroup "},
      {"cpuset", "cpuset.cpus.effective", ""},
      {"io", "io.stat", "diskstats: io cgroup "},
  };
  const uint64_t host_mem = MeminfoFields(ReadText("/proc/meminfo")).at("MemTotal");
  for (const Case& t : cases) {
    CAPTURE(t.controller);
    const std::string data = "/mnt/prochook-ctl-" + std::to_string(getpid());
    fs::create_directories(data);
    Container c({.cpus = "1",
                 .annotations = {{"io.prochook.interval", "100ms"}, {"io.prochook.idle", "off"}},
                 .binds = {{"/data", data}}});
    REQUIRE(c.Start().exit_code == 0);
    RequireServed(c);
    const std::string control = c.ParentCgroupDir(t.controller) + "/cgroup.subtree_control";
    const std::string log_file = c.state_dir() + "/renderer.log";
    auto read_all = [&] {
      std::map<std::string, std::string> now;
      for (const std::string f : {"meminfo", "stat", "cpuinfo", "loadavg", "diskstats", "swaps"}) {
        RunResult r = c.Exec({"cat", "/proc/" + f});
        CAPTURE(f);
        CHECK(r.exit_code == 0);
        REQUIRE(!r.out.empty());
        CHECK(r.out.back() == '\n');
        now[f] = r.out;
      }
      return now;
    };
    auto cpus = [&] { return c.Exec({"cat", "/sys/devices/system/cpu/online"}).out; };
    const std::string disks_before = read_all()["diskstats"];

    WriteCgroup(control, "-" + t.controller);
    REQUIRE_FALSE(fs::exists(c.CgroupDir(t.controller) + "/" + t.file));
    if (t.controller == "memory") {
      CHECK(WaitFor(2s, [&] { return MeminfoFields(read_all()["meminfo"]).at("MemTotal") == host_mem; }));
    } else if (t.controller == "cpuset") {
      CHECK(WaitFor(2s, [&] { return cpus() == ReadText("/sys/devices/system/cpu/online"); }));
    }
    if (!t.logged.empty()) {
      CHECK(WaitFor(2s, [&] { return ReadText(log_file).find(t.logged) != std::string::npos; }));
    }
    std::this_thread::sleep_for(300ms);
    const auto now = read_all();
    if (t.controller != "memory") CHECK(MeminfoFields(now.at("meminfo")).at("MemTotal") == 262144);
    if (t.controller != "cpuset") CHECK(cpus() == "0\n");
    // diskstats keeps its last good content rather than jump to the host's.
    if (t.controller == "io") CHECK(now.at("diskstats") == disks_before);
    // /proc/stat still refreshes (its idle time grows).
    const std::string stat = now.at("stat");
    CHECK(WaitFor(1s, [&] { return c.Exec({"cat", "/proc/stat"}).out != stat; }));
    const int renderer = RendererPid(c);
    CHECK(Alive(renderer));

    // Enabled again: the files come back with the kernel's defaults; the
    // runtime's settings are made again, and the figures follow once the
    // renderer looks for the files again (it remembers an absent file for
    // 5 s: common/reader.h).
    WriteCgroup(control, "+" + t.controller);
    if (t.controller == "memory") {
      WriteCgroup(c.CgroupDir("memory") + "/memory.max", "268435456");
      CHECK(WaitFor(8s, [&] { return MeminfoFields(read_all()["meminfo"]).at("MemTotal") == 262144; }));
    } else if (t.controller == "cpuset") {
      WriteCgroup(c.CgroupDir("cpuset") + "/cpuset.cpus", "1");
      CHECK(WaitFor(8s, [&] { return cpus() == "0\n"; }));
    } else {
      // The container's own writes, counted by the io.stat made again.
      REQUIRE(c.Exec({"dd", "if=/dev/zero", "of=/data/f", "bs=1M", "count=8", "oflag=direct"}).exit_code == 0);
      CHECK(WaitFor(8s, [&] {
        const auto vda = DiskFields(read_all()["diskstats"], "vda");
        return vda.size() >= 7 && vda[6] >= 16384;
      }));
    }
    INFO("renderer log:\n" << ReadText(log_file));
    CHECK(Alive(renderer));
    fs::remove_all(data);
  }
}

TEST_CASE("cgroup2: podman: memory.max, memory.swap.max, a parent's limit, loadavg, PSI, its cgroup namespace") {
  if (SkipUnlessUnified()) return;
  // podman with the runtime of this run (the lane runs cgroup2_test once
  // with runc and once with crun).
  const Engine engine = DefaultRuntime() == "crun" ? Engine::kPodmanCrun : Engine::kPodmanRunc;
  if (SkipUnlessReady(EngineTools(engine))) return;
  CAPTURE(EngineName(engine));
  EngineContainer c(engine, {});
  REQUIRE_MESSAGE(c.start().exit_code == 0, "start: " << c.start().err << c.start().out);
  // podman's own cgroup layout (under --cgroup-parent), from the init.
  const auto record = nlohmann::json::parse(ReadText(StateDirFor(c.id()) + "/state.json"));
  const std::string self = ReadText("/proc/" + std::to_string(record["pid"].get<int>()) + "/cgroup");
  REQUIRE(self.rfind("0::/", 0) == 0);
  const std::string dir = "/sys/fs/cgroup" + self.substr(3, self.size() - 4);
  INFO("cgroup " << dir);
  REQUIRE(ReadText(dir + "/memory.max") == "268435456\n");
  auto meminfo = [&] {
    RunResult r = c.Exec({"cat", "/proc/meminfo"});
    REQUIRE(r.exit_code == 0);
    return MeminfoFields(r.out);
  };
  CHECK(meminfo().at("MemTotal") == 262144);
  // Its own cgroup namespace (podman's default on a unified host).
  CHECK(c.Exec({"cat", "/proc/self/cgroup"}).out == "0::/\n");

  WriteCgroup(dir + "/memory.swap.max", std::to_string(128ull << 20));
  WriteCgroup(fs::path(dir).parent_path().string() + "/memory.max", std::to_string(192ull << 20));
  CHECK(WaitFor(3s, [&] { return meminfo().at("MemTotal") == 196608; }));
  CHECK(meminfo().at("SwapTotal") == 131072);
  CHECK(c.Exec({"cat", "/proc/swaps"}).out.find("131072") != std::string::npos);

  // Two busy loops: runnable tasks of its own in loadavg.
  REQUIRE(c.Exec({"sh", "-c", "for i in 1 2; do (while :; do :; done) </dev/null >/dev/null 2>&1 & done"}).exit_code == 0);
  std::this_thread::sleep_for(6s);
  const std::string load = FreshRead(c, "/proc/loadavg");
  INFO("loadavg: " << load);
  std::istringstream fields(load);
  double one = 0, five = 0, fifteen = 0;
  int running = 0, total = 0;
  char slash = 0;
  fields >> one >> five >> fifteen >> running >> slash >> total;
  CHECK(running >= 2);
  CHECK(one >= 0.15);  // 2 runnable for 6 s: 2(1 - e^(-5/60)) after one sample
  const std::string host = ReadText("/proc/loadavg");
  CHECK(total < std::stoi(host.substr(host.find('/') + 1)));

  // PSI: the container cgroup's, between two readings of its file.
  const uint64_t t0 = PsiSomeTotal(ReadText(dir + "/cpu.pressure"));
  std::this_thread::sleep_for(1500ms);
  const uint64_t seen = PsiSomeTotal(c.Exec({"cat", "/proc/pressure/cpu"}).out);
  const uint64_t t1 = PsiSomeTotal(ReadText(dir + "/cpu.pressure"));
  CHECK(seen >= t0);
  CHECK(seen <= t1);
  c.Remove();
}
