#include <doctest/doctest.h>

#include "renderer/cpu_usage.h"
#include "renderer/stat.h"
#include "tests/testing.h"

using namespace prochook;
using prochook::testing::TempDir;

namespace {

std::string Zeros(int n) {
  std::string s;
  for (int i = 0; i < n; ++i) s += " 0";
  return s;
}

// A real x86 VM's "intr" line (kernel 6.18, 2 CPUs); its runs of zeros
// abbreviated with Zeros(n).
const std::string kIntr = "intr 2027495" + Zeros(24) + " 1 1 9" + Zeros(4) + " 3980 176" +
                          Zeros(1) + " 336 1 150915" + Zeros(1) + " 1433 1335" + Zeros(1) +
                          " 3542 15894 1" + Zeros(380);
const std::string kSoftirq = "softirq 1563981 0 287920 90 5038 150914 0 8 917255 0 202756";

// That machine's /proc/stat, byte for byte.
const std::string kHost2 =
    "cpu  67252 0 24462 3880665 1094 0 1090 0 0 0\n"
    "cpu0 28861 0 11385 1946374 152 0 483 0 0 0\n"
    "cpu1 38391 0 13076 1934291 942 0 607 0 0 0\n" +
    kIntr + "\n"
    "ctxt 2420658\n"
    "btime 1795361617\n"
    "processes 25760\n"
    "procs_running 1\n"
    "procs_blocked 0\n" +
    kSoftirq + "\n";

// The same lines after the CPU lines, as RenderStat prints them with that
// host, btime 1795361617 and procs_running 3.
const std::string kTail = kIntr + "\n"
    "ctxt 2420658\n"
    "btime 1795361617\n"
    "processes 25760\n"
    "procs_running 3\n"
    "procs_blocked 0\n" +
    kSoftirq + "\n";

// A 6-CPU host: cpuN's columns are N*1000 + column index.
std::string Host6() {
  std::string s = "cpu  1 2 3 4 5 6 7 8 9 10\n";
  for (int c = 0; c < 6; ++c) {
    s += "cpu" + std::to_string(c);
    for (int k = 0; k < 10; ++k) s += " " + std::to_string(c * 1000 + k);
    s += "\n";
  }
  return s + "ctxt 5\nbtime 1700000000\nprocesses 9\nprocs_running 2\nprocs_blocked 1\n";
}

constexpr uint64_t kSec = 1'000'000'000;  // ns

CpuUsage PerCpu(std::map<int, CpuTime> by_cpu) {
  CpuUsage u;
  u.per_cpu = true;
  for (const auto& [cpu, t] : by_cpu) {
    u.user_ns += t.user_ns;
    u.system_ns += t.system_ns;
  }
  u.by_host_cpu = std::move(by_cpu);
  return u;
}

// The CPU lines of rendered text, read back with the host parser.
std::map<int, StatColumns> Cpus(const std::string& text) { return ParseHostStat(text).cpus; }

StatColumns Aggregate(const std::string& text) {
  std::string first = text.substr(0, text.find('\n'));
  REQUIRE(first.rfind("cpu  ", 0) == 0);
  return Cpus("cpu999" + first.substr(4)).at(999);
}

}  // namespace

TEST_CASE("ParseHostStat reads a real /proc/stat") {
  HostStat s = ParseHostStat(kHost2);
  REQUIRE(s.cpus.size() == 2);  // the aggregate "cpu " line is not a CPU
  CHECK(s.cpus.at(0) == StatColumns{28861, 0, 11385, 1946374, 152, 0, 483, 0, 0, 0});
  CHECK(s.cpus.at(1) == StatColumns{38391, 0, 13076, 1934291, 942, 0, 607, 0, 0, 0});
  CHECK(s.intr == kIntr);
  CHECK(s.softirq == kSoftirq);
  CHECK(s.ctxt == 2420658u);
  CHECK(s.btime == 1795361617u);
  CHECK(s.processes == 25760u);
  CHECK(s.procs_running == 1u);
  CHECK(s.procs_blocked == 0u);
}

TEST_CASE("ParseHostStat: old kernels' short lines, gaps, junk") {
  // 2.6.11-2.6.23 print 8 columns; offline CPUs leave gaps in the numbering.
  HostStat s = ParseHostStat(
      "cpu  2 0 2 8 0 0 0 0\ncpu0 1 0 1 4 0 0 0 0\ncpu3 1 2 3 4 5 6 7 8\n"
      "cpux 1 2\ncpu4 1 x 3\ncpu5\nctxt\nbtime abc\nprocesses 7\n");
  REQUIRE(s.cpus.size() == 2);
  CHECK(s.cpus.at(3) == StatColumns{1, 2, 3, 4, 5, 6, 7, 8, 0, 0});
  CHECK_FALSE(s.ctxt.has_value());
  CHECK_FALSE(s.btime.has_value());
  CHECK(s.processes == 7u);
  CHECK(s.intr.empty());
  CHECK(ParseHostStat("").cpus.empty());
}

TEST_CASE("CPU usage parsers over real cgroup text") {
  auto all = ParseCpuacctUsageAll(
      "cpu user system\n0 288656000000 118744000000\n1 383964000000 136896000000\n");
  REQUIRE(all.ok());
  CHECK(all->per_cpu);
  CHECK(all->by_host_cpu.at(1).user_ns == 383964000000u);
  CHECK(all->by_host_cpu.at(1).system_ns == 136896000000u);
  CHECK(all->user_ns == 288656000000u + 383964000000u);
  CHECK(all->system_ns == 118744000000u + 136896000000u);
  CHECK_FALSE(ParseCpuacctUsageAll("").ok());
  CHECK_FALSE(ParseCpuacctUsageAll("cpu user system\n").ok());
  CHECK_FALSE(ParseCpuacctUsageAll("cpu user system\n0 1\n").ok());

  auto list = ParseCpuacctPerCpu("288664000000 383968000000 \n");  // the kernel's trailing space
  REQUIRE(list.ok());
  CHECK(*list == std::vector<uint64_t>{288664000000u, 383968000000u});
  CHECK_FALSE(ParseCpuacctPerCpu("1 -2\n").ok());
  CHECK_FALSE(CpuUsageFromLists({1, 2}, {3}).ok());
  CHECK_FALSE(CpuUsageFromLists({}, {}).ok());

  // v2 with the cpu controller enabled adds the bandwidth keys.
  auto v2 = ParseCpuStat(
      "usage_usec 1949822\nuser_usec 899711\nsystem_usec 1050111\nnice_usec 0\n"
      "core_sched.force_idle_usec 0\nnr_periods 10\nnr_throttled 2\nthrottled_usec 5000\n"
      "nr_bursts 0\nburst_usec 0\n");
  REQUIRE(v2.ok());
  CHECK_FALSE(v2->per_cpu);
  CHECK(v2->by_host_cpu.empty());
  CHECK(v2->user_ns == 899711000u);
  CHECK(v2->system_ns == 1050111000u);
  CHECK_FALSE(ParseCpuStat("usage_usec 5\n").ok());
}

TEST_CASE("ReadCpuUsage picks the most detailed file there is") {
  struct Case {
    const char* name;
    std::map<std::string, std::string> files;
    int version;
    bool per_cpu;
    uint64_t cpu1_user, cpu1_sys, user, sys;
  };
  const std::string kAll = "cpu user system\n0 288656000000 118744000000\n1 383964000000 136896000000\n";
  const std::string kUser = "288664000000 383968000000 \n";
  const std::string kSys = "118764000000 136908000000 \n";
  const std::string kTotal = "430362169054 543202426457 \n";
  const Case cases[] = {
      {"v1 usage_all",
       {{"ct/cpuacct.usage_all", kAll}, {"ct/cpuacct.usage_percpu_user", kUser},
        {"ct/cpuacct.usage_percpu_sys", kSys}, {"ct/cpuacct.usage_percpu", kTotal}},
       1, true, 383964000000u, 136896000000u, 672620000000u, 255640000000u},
      {"v1 user+sys lists when usage_all is unreadable",
       {{"ct/cpuacct.usage_all", "garbage\n"}, {"ct/cpuacct.usage_percpu_user", kUser},
        {"ct/cpuacct.usage_percpu_sys", kSys}, {"ct/cpuacct.usage_percpu", kTotal}},
       1, true, 383968000000u, 136908000000u, 672632000000u, 255672000000u},
      {"v1 usage_percpu alone counts as user",
       {{"ct/cpuacct.usage_percpu_user", kUser}, {"ct/cpuacct.usage_percpu", kTotal}},
       1, true, 543202426457u, 0, 973564595511u, 0},
      {"v2 cpu.stat",
       {{"ct/cpu.stat", "usage_usec 35155\nuser_usec 17577\nsystem_usec 17578\nnice_usec 0\n"}},
       2, false, 0, 0, 17577000u, 17578000u},
  };
  for (const Case& c : cases) {
    CAPTURE(c.name);
    TempDir t;
    t.Write(c.files);
    auto u = ReadCpuUsage({c.version, t.path() + "/ct", t.path()});
    REQUIRE(u.ok());
    CHECK(u->per_cpu == c.per_cpu);
    if (c.per_cpu) {
      REQUIRE(u->by_host_cpu.size() == 2);
      CHECK(u->by_host_cpu.at(1).user_ns == c.cpu1_user);
      CHECK(u->by_host_cpu.at(1).system_ns == c.cpu1_sys);
    }
    CHECK(u->user_ns == c.user);
    CHECK(u->system_ns == c.sys);
  }
}

TEST_CASE("ReadCpuUsage fails without accounting files") {
  TempDir t;
  t.Write({{"ct/cpuacct.stat", "user 1\nsystem 2\n"}});
  auto v1 = ReadCpuUsage({1, t.path() + "/ct", t.path()});
  REQUIRE_FALSE(v1.ok());
  CHECK(v1.error().message().find("cpuacct.usage_percpu") != std::string::npos);
  CHECK_FALSE(ReadCpuUsage({2, t.path() + "/ct", t.path()}).ok());
  CHECK_FALSE(ReadCpuUsage({0, "", ""}).ok());
}

TEST_CASE("RenderStat: 2 visible CPUs from cpuacct.usage_all, byte exact") {
  StatInput in;
  in.host = ParseHostStat(kHost2);
  in.view = CpuView{{0, 1}, {0, 1}};
  in.usage = ParseCpuacctUsageAll(
                 "cpu user system\n0 288656000000 118744000000\n1 383964000000 136896000000\n")
                 .value();
  in.elapsed_ticks = 1990372;  // uptime 19903.72 s
  in.procs_running = 3;
  in.btime = 1795361617;
  StatState state;
  CHECK(RenderStat(in, state) ==
        "cpu  67261 0 25563 3887920 0 0 0 0 0 0\n"
        "cpu0 28865 0 11874 1949633 0 0 0 0 0 0\n"
        "cpu1 38396 0 13689 1938287 0 0 0 0 0 0\n" +
            kTail);
  CHECK(state.idle_ticks() == 3887920u);
}

TEST_CASE("RenderStat renumbers host CPUs {2,5} as cpu0, cpu1") {
  StatInput in;
  in.host = ParseHostStat(Host6());
  in.view = CpuView{{2, 5}, {2, 5}};
  in.btime = 1700000000;
  SUBCASE("from usage") {
    in.usage = PerCpu({{0, {1 * kSec, 1 * kSec}}, {2, {20 * kSec, 2 * kSec}},
                       {5, {50 * kSec, 5 * kSec}}});
    in.elapsed_ticks = 10000;
    StatState state;
    CHECK(RenderStat(in, state) ==
          "cpu  7000 0 700 12300 0 0 0 0 0 0\n"
          "cpu0 2000 0 200 7800 0 0 0 0 0 0\n"
          "cpu1 5000 0 500 4500 0 0 0 0 0 0\n"
          "ctxt 5\nbtime 1700000000\nprocesses 9\nprocs_running 2\nprocs_blocked 1\n");
  }
  SUBCASE("without cpu accounting: the host's lines") {
    StatState state;
    CHECK(RenderStat(in, state) ==
          "cpu  7000 7002 7004 7006 7008 7010 7012 7014 7016 7018\n"
          "cpu0 2000 2001 2002 2003 2004 2005 2006 2007 2008 2009\n"
          "cpu1 5000 5001 5002 5003 5004 5005 5006 5007 5008 5009\n"
          "ctxt 5\nbtime 1700000000\nprocesses 9\nprocs_running 2\nprocs_blocked 1\n");
    CHECK(state.idle_ticks() == 2003u + 5003u);
  }
  SUBCASE("without cpu accounting, a visible CPU gone offline keeps no line") {
    in.view = CpuView{{2, 7, 5}, {2, 7, 5}};
    StatState state;
    auto cpus = Cpus(RenderStat(in, state));
    REQUIRE(cpus.size() == 2);
    CHECK(cpus.at(0)[0] == 2000u);
    CHECK(cpus.at(2)[0] == 5000u);
  }
}

TEST_CASE("RenderStat folds the cpuset's usage onto the CPUs a quota shows") {
  StatInput in;
  in.host = ParseHostStat(Host6());
  in.view = CpuView{{0, 1}, {0, 1, 2, 3}};  // quota of 2 CPUs over a 4-CPU cpuset
  in.usage = PerCpu({{0, {10 * kSec, 1 * kSec}}, {1, {20 * kSec, 2 * kSec}},
                     {2, {30 * kSec, 3 * kSec}}, {3, {40 * kSec, 4 * kSec}},
                     {7, {99 * kSec, 9 * kSec}}});  // outside the cpuset: not the container's
  in.elapsed_ticks = 100000;
  StatState state;
  std::string out = RenderStat(in, state);
  auto cpus = Cpus(out);
  REQUIRE(cpus.size() == 2);
  CHECK(cpus.at(0) == StatColumns{4000, 0, 400, 95600, 0, 0, 0, 0, 0, 0});  // hosts 0 and 2
  CHECK(cpus.at(1) == StatColumns{6000, 0, 600, 93400, 0, 0, 0, 0, 0, 0});  // hosts 1 and 3
  StatColumns total = Aggregate(out);
  CHECK(total[kStatUser] == 10000u);  // 100 s of the cpuset's 4 CPUs, all shown
  CHECK(total[kStatSystem] == 1000u);
}

TEST_CASE("RenderStat spreads v2 totals evenly, the remainder to the lowest CPUs") {
  StatInput in;
  in.view = CpuView{{0, 1, 2}, {0, 1, 2}};
  CpuUsage u;
  u.user_ns = 1001 * 10'000'000ull + 9'999'999;  // 1001 ticks, the rest truncated
  u.system_ns = 5 * 10'000'000ull;
  in.usage = u;
  in.elapsed_ticks = 1000;
  StatState state;
  std::string out = RenderStat(in, state);
  auto cpus = Cpus(out);
  REQUIRE(cpus.size() == 3);
  CHECK(cpus.at(0) == StatColumns{334, 0, 2, 664, 0, 0, 0, 0, 0, 0});
  CHECK(cpus.at(1) == StatColumns{334, 0, 2, 664, 0, 0, 0, 0, 0, 0});
  CHECK(cpus.at(2) == StatColumns{333, 0, 1, 666, 0, 0, 0, 0, 0, 0});
  CHECK(Aggregate(out) == StatColumns{1001, 0, 5, 1994, 0, 0, 0, 0, 0, 0});
}

TEST_CASE("RenderStat never lets a counter go backwards") {
  StatInput in;
  in.view = CpuView{{0, 1}, {0, 1}};
  in.usage = PerCpu({{0, {50 * 10'000'000ull, 0}}, {1, {10 * 10'000'000ull, 0}}});
  in.elapsed_ticks = 100;
  StatState state;
  auto first = Cpus(RenderStat(in, state));
  CHECK(first.at(0) == StatColumns{50, 0, 0, 50, 0, 0, 0, 0, 0, 0});

  // Usage went down (the cgroup was recreated) and busy exceeds wall time.
  in.usage = PerCpu({{0, {40 * 10'000'000ull, 80 * 10'000'000ull}}, {1, {5 * 10'000'000ull, 0}}});
  in.elapsed_ticks = 110;
  std::string out = RenderStat(in, state);
  auto second = Cpus(out);
  CHECK(second.at(0) == StatColumns{50, 0, 80, 50, 0, 0, 0, 0, 0, 0});
  CHECK(second.at(1) == StatColumns{10, 0, 0, 105, 0, 0, 0, 0, 0, 0});
  CHECK(Aggregate(out) == StatColumns{60, 0, 80, 155, 0, 0, 0, 0, 0, 0});
  CHECK(state.idle_ticks() == 155u);

  // One CPU more: the old ones stay clamped, the new one starts fresh.
  in.view = CpuView{{0, 1, 2}, {0, 1, 2}};
  in.usage->by_host_cpu[2] = {1 * 10'000'000ull, 0};
  auto third = Cpus(RenderStat(in, state));
  CHECK(third.at(0)[kStatUser] == 50u);
  CHECK(third.at(2) == StatColumns{1, 0, 0, 109, 0, 0, 0, 0, 0, 0});

  // Down to one and back to two: the dropped CPU's history is gone.
  in.view = CpuView{{0}, {0}};
  in.usage = PerCpu({{0, {0, 0}}});
  CHECK(Cpus(RenderStat(in, state)).size() == 1);
  in.view = CpuView{{0, 1}, {0, 1}};
  in.usage = PerCpu({{0, {0, 0}}, {1, {0, 0}}});
  auto fifth = Cpus(RenderStat(in, state));
  CHECK(fifth.at(0) == StatColumns{50, 0, 80, 110, 0, 0, 0, 0, 0, 0});
  CHECK(fifth.at(1) == StatColumns{0, 0, 0, 110, 0, 0, 0, 0, 0, 0});
}

TEST_CASE("RenderStat always prints btime; host lines it lacks are left out") {
  StatInput in;
  in.host = ParseHostStat("cpu  1 2 3 4 5 6 7 8 9 10\ncpu0 1 2 3 4 5 6 7 8 9 10\nprocesses 4\n");
  in.view = CpuView{{0}, {0}};
  in.procs_blocked = 2;
  in.btime = 42;
  StatState state;
  CHECK(RenderStat(in, state) ==
        "cpu  1 2 3 4 5 6 7 8 9 10\n"
        "cpu0 1 2 3 4 5 6 7 8 9 10\n"
        "btime 42\nprocesses 4\nprocs_blocked 2\n");
}

TEST_CASE("A seeded StatState continues from what an earlier renderer emitted") {
  StatInput in;
  in.view = CpuView{{0, 1}, {0, 1}};
  in.usage = PerCpu({{0, {50 * 10'000'000ull, 0}}, {1, {10 * 10'000'000ull, 0}}});
  in.elapsed_ticks = 100;
  StatState before;
  const std::string emitted = RenderStat(in, before);

  // A restarted renderer sees lower figures (v2 spreading, a new cgroup):
  // seeded from the file, it still never goes backwards.
  StatState after;
  after.Seed(ParseHostStat(emitted));
  in.usage = PerCpu({{0, {10 * 10'000'000ull, 0}}, {1, {10 * 10'000'000ull, 0}}});
  auto cpus = Cpus(RenderStat(in, after));
  CHECK(cpus.at(0) == StatColumns{50, 0, 0, 90, 0, 0, 0, 0, 0, 0});
  CHECK(cpus.at(1) == StatColumns{10, 0, 0, 90, 0, 0, 0, 0, 0, 0});
  // A file from a different shape (gaps in numbering) seeds nothing past the gap.
  StatState odd;
  odd.Seed(ParseHostStat("cpu  1 0 0 0\ncpu0 1 0 0 0\ncpu2 9 0 0 0\n"));
  CHECK(Cpus(RenderStat(in, odd)).at(1)[kStatUser] == 10u);
}
