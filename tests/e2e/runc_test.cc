// The walking skeleton end to end: real runc, real procps, real tmpfs.
#include <doctest/doctest.h>

#include <boost/process.hpp>
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include "tests/e2e/harness.h"
#include "tests/testing.h"

namespace bp = boost::process;
namespace fs = std::filesystem;
using namespace prochook::e2e;
using namespace std::chrono_literals;

namespace {

uint64_t HostMemTotal() { return MeminfoFields(ReadText("/proc/meminfo")).at("MemTotal"); }

// The "free" column of the first "Mem:" line in `free -k` output.
uint64_t FreeColumn(const std::string& mem_line) {
  std::istringstream in(mem_line);
  std::string label;
  uint64_t total, used, free;
  in >> label >> total >> used >> free;
  return free;
}

}  // namespace

TEST_CASE("runc: a 256 MiB container sees MemTotal 262144 kB in /proc/meminfo and free") {
  if (SkipUnlessReady()) return;
  Container c({});
  RunResult start = c.Start();
  REQUIRE_MESSAGE(start.exit_code == 0, "runc run: " << start.err);

  RunResult cat = c.Exec({"cat", "/proc/meminfo"});
  REQUIRE(cat.exit_code == 0);
  auto f = MeminfoFields(cat.out);
  CHECK(f.at("MemTotal") == 262144);
  CHECK(f.at("MemFree") <= 262144);
  CHECK(f.at("MemAvailable") <= 262144);
  CHECK(f.at("MemFree") > 200000);  // an idle sleep uses a few MiB at most

  RunResult free = c.Exec({"free", "-k"});
  REQUIRE(free.exit_code == 0);
  INFO("free -k:\n" << free.out);
  std::istringstream lines(free.out);
  std::string header, mem;
  std::getline(lines, header);
  std::getline(lines, mem);
  std::istringstream mem_fields(mem);
  std::string label;
  uint64_t total = 0;
  mem_fields >> label >> total;
  CHECK(label == "Mem:");
  CHECK(total == 262144);

  // Python reads the same file (psutil and friends parse it too).
  RunResult py = c.Exec({"/usr/bin/python3", "-c",
                         "print([l.split()[1] for l in open('/proc/meminfo') "
                         "if l.startswith('MemTotal:')][0])"});
  CHECK(py.out == "262144\n");

  // The mount exists in the container's mount namespace, and only there:
  // nothing reached the host's.
  RequireServed(c);
  CHECK(StateDirMounts(c.state_dir(), "/proc/self/mountinfo").empty());
  // Read-only: even root in the container cannot write it.
  RunResult write = c.Exec({"sh", "-c", "echo x > /proc/meminfo"});
  CHECK(write.exit_code != 0);
}

TEST_CASE("runc: 64 MiB written to tmpfs lowers MemFree within two intervals while free -s reads") {
  if (SkipUnlessReady()) return;
  constexpr auto kInterval = 250ms;
  Container c({.annotations = {{"io.prochook.interval", "250ms"}}});
  RunResult start = c.Start();
  REQUIRE_MESSAGE(start.exit_code == 0, "runc run: " << start.err);
  RequireServed(c);  // the host's MemFree drops by 64 MiB too

  // free -s keeps /proc/meminfo open and re-reads it from offset 0. Its
  // output goes line-buffered to a host file that the test polls.
  const std::string log = c.bundle() + "/free.log";
  std::vector<std::string> argv = c.Runc({"exec", c.id(), "stdbuf", "-oL", "free", "-k", "-s", "0.1"});
  bp::child watcher(bp::search_path(argv[0]),
                    bp::args(std::vector<std::string>(argv.begin() + 1, argv.end())),
                    bp::std_out > log, bp::std_err > log + ".err", bp::std_in < bp::null);
  auto free_samples = [&] {
    std::vector<uint64_t> v;
    std::istringstream in(ReadText(log));
    for (std::string line; std::getline(in, line);) {
      if (line.rfind("Mem:", 0) == 0) v.push_back(FreeColumn(line));
    }
    return v;
  };
  REQUIRE_MESSAGE(WaitFor(5s, [&] { return free_samples().size() >= 3; }),
                  "free -s wrote:\n" << ReadText(log) << ReadText(log + ".err"));
  const uint64_t before = free_samples().back();

  RunResult dd = c.Exec({"dd", "if=/dev/zero", "of=/tmp/fill", "bs=1M", "count=64"});
  REQUIRE_MESSAGE(dd.exit_code == 0, dd.err);
  const size_t seen = free_samples().size();

  // The renderer writes the drop within two intervals; free -s sees it
  // through its open fd one sample later (procps 4 re-reads meminfo at most
  // once per second, whatever -s says).
  const bool rendered = WaitFor(2 * kInterval, [&] {
    return before - std::min<uint64_t>(before, MeminfoFields(ReadText(c.state_dir() + "/meminfo"))
                                                   .at("MemFree")) >= 60 * 1024;
  });
  CHECK(rendered);
  const bool dropped = WaitFor(2 * kInterval + 1100ms, [&] {
    auto v = free_samples();
    return v.size() > seen && before - std::min(before, v.back()) >= 60 * 1024;
  });
  const uint64_t after = free_samples().back();
  INFO("MemFree column before " << before << " kB, after " << after << " kB");
  INFO("rendered meminfo:\n" << ReadText(c.state_dir() + "/meminfo"));
  INFO("renderer log:\n" << ReadText(c.state_dir() + "/renderer.log"));
  INFO("in the container:\n" << c.Exec({"head", "-n", "3", "/proc/meminfo"}).out);
  CHECK(dropped);
  CHECK(before - after >= 60 * 1024);
  CHECK(before - after <= 70 * 1024);

  c.Stop();  // ends free inside, and with it runc exec
  watcher.wait();
}

TEST_CASE("runc: after the container exits, renderer, state dir and mounts are gone") {
  if (SkipUnlessReady()) return;
  Container c({});
  RunResult start = c.Start();
  REQUIRE_MESSAGE(start.exit_code == 0, "runc run: " << start.err);
  const std::string dir = c.state_dir();
  RequireServed(c);
  const int renderer = RendererPid(c);
  REQUIRE(renderer > 0);
  const std::string proc = "/proc/" + std::to_string(renderer);
  REQUIRE(fs::exists(proc));
  // The renderer lives in prochook's own cgroup, not the container's (it
  // moves there as it starts, while the container starts).
  // (v1: its memory hierarchy's line; unified: the one "0::" line.)
  const std::string own = UnifiedCgroups() ? "0::/prochook\n" : ":memory:/prochook\n";
  CHECK(WaitFor(2s, [&] { return ReadText(proc + "/cgroup").find(own) != std::string::npos; }));
  CHECK(ReadText(proc + "/cgroup").find(c.id()) == std::string::npos);

  const int init = c.InitPid();
  REQUIRE(init > 0);
  Run(c.Runc({"kill", c.id(), "KILL"}));
  REQUIRE(WaitFor(5s, [&] { return !fs::exists("/proc/" + std::to_string(init)); }));
  const auto exited = std::chrono::steady_clock::now();
  CHECK(WaitFor(2s, [&] { return !fs::exists(proc); }));
  INFO("renderer exit took " << std::chrono::duration_cast<std::chrono::milliseconds>(
                                    std::chrono::steady_clock::now() - exited).count() << " ms");
  CHECK(WaitFor(2s, [&] { return !fs::exists(dir); }));
  c.Stop();
  // With the init gone its mount namespace, and prochook's mounts in it, are
  // gone: what could be left is the state dir (the mounts' files) and the
  // renderer.
  CHECK_FALSE(fs::exists(dir));
  CHECK(RenderersOf(dir) == 0);
}

TEST_CASE("runc: prestart works as well as createRuntime") {
  if (SkipUnlessReady()) return;
  Container c({.memory_limit = 128ull << 20, .hook_stage = "prestart"});
  RunResult start = c.Start();
  REQUIRE_MESSAGE(start.exit_code == 0, "runc run: " << start.err);
  CHECK(MeminfoFields(c.Exec({"cat", "/proc/meminfo"}).out).at("MemTotal") == 131072);
}

TEST_CASE("runc: no memory limit shows the host's memory") {
  if (SkipUnlessReady()) return;
  Container c({.memory_limit = 0});
  RunResult start = c.Start();
  REQUIRE_MESSAGE(start.exit_code == 0, "runc run: " << start.err);
  RequireServed(c);  // with host values, which an unserved container shows too
  CHECK(MeminfoFields(c.Exec({"cat", "/proc/meminfo"}).out).at("MemTotal") == HostMemTotal());
}

TEST_CASE("runc: io.prochook.disable=true leaves the container untouched") {
  if (SkipUnlessReady()) return;
  Container c({.annotations = {{"io.prochook.disable", "true"}}});
  RunResult start = c.Start();
  REQUIRE_MESSAGE(start.exit_code == 0, "runc run: " << start.err);
  CHECK(MeminfoFields(c.Exec({"cat", "/proc/meminfo"}).out).at("MemTotal") == HostMemTotal());
  CHECK_FALSE(fs::exists(c.state_dir()));
  CHECK(ServedMounts(c).empty());
  // The hook ran and declined for the annotation (not for any other reason).
  CHECK(HookLogFor(c.id()).find("disabled by annotation") != std::string::npos);
}

TEST_CASE("runc: fail-open when the target is not procfs; fail-closed refuses the start") {
  if (SkipUnlessReady()) return;
  // runc binds a plain host file over /proc/meminfo: prochook must refuse to
  // mount over anything that is not the procfs file.
  prochook::testing::TempDir tmp;
  tmp.Write({{"meminfo", "MemTotal:       1 kB\n"}});
  const std::string fake = tmp.path() + "/meminfo";
  {
    Container c({.meminfo_bind = fake});
    RunResult start = c.Start();
    REQUIRE_MESSAGE(start.exit_code == 0, "runc run: " << start.err);
    CHECK(c.Exec({"cat", "/proc/meminfo"}).out == "MemTotal:       1 kB\n");  // untouched
    CHECK_FALSE(fs::exists(c.state_dir()));  // nothing left behind
    // The operator finds why in the hook's log.
    const std::string log = ReadText("/run/prochook/hook.log");
    const size_t line = log.rfind("prochook hook " + c.id());
    REQUIRE(line != std::string::npos);
    CHECK(log.find("policy fail-open", line) != std::string::npos);
    CHECK(log.find("is not a procfs file", line) != std::string::npos);
    CHECK(ServedMounts(c).empty());  // in the container's mount namespace
  }
  {
    Container c({.annotations = {{"io.prochook.policy", "fail-closed"}}, .meminfo_bind = fake});
    RunResult start = c.Start();
    CHECK(start.exit_code != 0);
    INFO("runc run stderr: " << start.err);
    CHECK(start.err.find("is not a procfs file") != std::string::npos);  // the hook's reason reaches the user
    CHECK_FALSE(fs::exists(c.state_dir()));
  }
}

TEST_CASE("runc: the run directory is the tear-free XFS store") {
  if (SkipUnlessReady({"mkfs.xfs"})) return;
  Container c({});
  REQUIRE(c.Start().exit_code == 0);
  RequireServed(c);
  CHECK(Run({"stat", "-f", "-c", "%T", "/run/prochook"}).out == "xfs\n");
  CHECK(Run({"stat", "-f", "-c", "%T", c.state_dir() + "/meminfo"}).out == "xfs\n");
}

namespace {

// The longest time since the renderer's last refresh (the mtime of its
// state directory) seen over `span`, sampled every 10 ms.
double MaxRefreshAge(const std::string& state_dir, std::chrono::milliseconds span) {
  double worst = 0;
  const auto end = std::chrono::steady_clock::now() + span;
  while (std::chrono::steady_clock::now() < end) {
    const auto mtime = fs::last_write_time(state_dir);
    const double age = std::chrono::duration<double>(fs::file_time_type::clock::now() - mtime).count();
    worst = std::max(worst, age);
    std::this_thread::sleep_for(10ms);
  }
  return worst;
}

}  // namespace

TEST_CASE("runc: idle mode refreshes unread files every idle period, and at once when read again") {
  if (SkipUnlessReady()) return;
  Container idle({.annotations = {{"io.prochook.interval", "100ms"}, {"io.prochook.idle", "1s"}}});
  Container busy({.annotations = {{"io.prochook.interval", "100ms"}, {"io.prochook.idle", "off"}}});
  REQUIRE(idle.Start().exit_code == 0);
  REQUIRE(busy.Start().exit_code == 0);
  std::this_thread::sleep_for(1500ms);  // nobody has read the files: idle

  // Unread: one refresh per second, not every 100 ms; idle off: every 100 ms.
  const double idle_age = MaxRefreshAge(idle.state_dir(), 1500ms);
  const double busy_age = MaxRefreshAge(busy.state_dir(), 500ms);
  CHECK(idle_age > 0.5);
  CHECK(idle_age < 1.5);
  CHECK(busy_age < 0.4);
  // `prochook ps` says which is idle (between two idle refreshes).
  std::set<std::string> idle_states, busy_states;
  WaitFor(3s, [&] {
    std::istringstream rows(Run({ProchookBinary(), "ps"}).out);
    std::string row;
    while (std::getline(rows, row)) {
      std::istringstream f(row);
      std::string id, pid, state;
      f >> id >> pid >> state;
      if (id == idle.id()) idle_states.insert(state);
      if (id == busy.id()) busy_states.insert(state);
    }
    return idle_states.count("idle") > 0;
  });
  CHECK(idle_states.count("idle") == 1);
  CHECK(busy_states == std::set<std::string>{"serving"});

  // A read wakes the renderer: refreshed every interval again, and the
  // content is current (MemTotal is the limit).
  RunResult cat = idle.Exec({"cat", "/proc/meminfo"});
  REQUIRE(cat.exit_code == 0);
  CHECK(MeminfoFields(cat.out).at("MemTotal") == 262144);
  std::this_thread::sleep_for(200ms);
  CHECK(MaxRefreshAge(idle.state_dir(), 600ms) < 0.4);
}

TEST_CASE("runc: a reader in a tight loop does not make the renderer wake or refresh per read") {
  if (SkipUnlessReady()) return;
  Container c({.annotations = {{"io.prochook.interval", "200ms"}}});
  REQUIRE(c.Start().exit_code == 0);
  RequireServed(c);  // the reads below read prochook's file
  const int renderer = RendererPid(c);
  REQUIRE(renderer > 0);
  // Field 3 of schedstat: how many times the renderer has run (wakeups).
  auto runs = [&] {
    std::istringstream s(ReadText("/proc/" + std::to_string(renderer) + "/schedstat"));
    uint64_t on_cpu = 0, waiting = 0, count = 0;
    REQUIRE_MESSAGE((s >> on_cpu >> waiting >> count), "no schedstat for renderer " << renderer);
    return count;
  };
  const uint64_t before = runs();
  const auto start = std::chrono::steady_clock::now();
  RunResult loop = c.Exec({"sh", "-c", "i=0; while [ $i -lt 20000 ]; do read l < /proc/meminfo; i=$((i+1)); done"});
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  REQUIRE(loop.exit_code == 0);
  const uint64_t woke = runs() - before;
  INFO("20000 reads in " << seconds << " s woke the renderer " << woke << " times");
  // About one wakeup per 200 ms tick, not one per read (or batch of reads);
  // and at least every other tick: a renderer that died or hung would pass
  // the bound above by never waking.
  CHECK(woke < 3 * (seconds / 0.2 + 1) + 10);
  CHECK(woke >= seconds / 0.2 / 2);
  CHECK(Alive(renderer));
}

TEST_CASE("runc: loadavg's task count follows processes as they start and end") {
  if (SkipUnlessReady()) return;
  // The renderer keeps its inputs open between refreshes, but never a task
  // list: cgroup v1 serves a kept-open tasks file the list of its first
  // read for as long as reads keep coming.
  Container c({.annotations = {{"io.prochook.interval", "100ms"}, {"io.prochook.idle", "off"}}});
  REQUIRE(c.Start().exit_code == 0);
  RequireServed(c);  // the host's loadavg counts the container's tasks too
  // Read from the host through the init's root, which walks the
  // container's mounts: a `runc exec cat` would count itself (and runc's
  // init) whenever the renderer samples while it runs, which under
  // emulation is most of the time.
  const std::string loadavg = "/proc/" + std::to_string(c.InitPid()) + "/root/proc/loadavg";
  auto total = [&] {
    const std::string text = ReadText(loadavg);
    const size_t slash = text.find('/');
    REQUIRE_MESSAGE(slash != std::string::npos, text);
    return std::stoi(text.substr(slash + 1));
  };
  // A reading can still count an exec that is leaving the cgroup, never one
  // too few: the baseline is the least of a few.
  int before = total();
  for (int i = 0; i < 5; ++i) {
    std::this_thread::sleep_for(150ms);
    before = std::min(before, total());
  }
  REQUIRE(c.Exec({"sh", "-c", "for i in 1 2 3; do sleep 4242 </dev/null >/dev/null 2>&1 & done"}).exit_code == 0);
  CHECK(WaitFor(5s, [&] { return total() == before + 3; }));
  REQUIRE(c.Exec({"pkill", "-f", "sleep 4242"}).exit_code == 0);
  CHECK(WaitFor(5s, [&] { return total() == before; }));
}
