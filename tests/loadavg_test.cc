#include <doctest/doctest.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <filesystem>
#include <future>
#include <map>
#include <set>
#include <string>
#include <thread>

#include "common/io.h"
#include "renderer/loadavg.h"
#include "renderer/tasks.h"
#include "tests/testing.h"

using namespace prochook;
using prochook::testing::OpenWatch;
using prochook::testing::TempDir;

namespace {

// kernel/sched/loadavg.c calc_load(), restated here so the class is checked
// against the recurrence rather than against itself.
uint64_t Step(uint64_t load, uint64_t exp, uint64_t active) {
  uint64_t n = load * exp + active * (2048 - exp);
  if (active >= load) n += 2047;
  return n / 2048;
}

// Samples `active` every second from t = 0 to t = seconds.
void Run(LoadAverage& la, uint32_t active, int64_t from_s, int64_t seconds) {
  for (int64_t t = from_s; t <= from_s + seconds; ++t) la.Sample(active, t * 1000);
}

}  // namespace

TEST_CASE("ParseTaskState takes the letter after the last parenthesis") {
  CHECK(ParseTaskState("42 (bash) S 1 42 42 0 -1").value() == 'S');
  CHECK(ParseTaskState("7 (a) b) (c) R 1 7").value() == 'R');
  CHECK(ParseTaskState("9 (dd) D 1\n").value() == 'D');
  CHECK_FALSE(ParseTaskState("9 dd D 1").ok());
  CHECK_FALSE(ParseTaskState("9 (dd)").ok());
}

TEST_CASE("ParseNsPid takes the innermost namespace's pid") {
  CHECK(ParseNsPid("Name:\tsh\nPid:\t4242\nNSpid:\t4242\t17\t1\nNSsid:\t1\n").value() == 1);
  CHECK(ParseNsPid("Name:\tsh\nNSpid:\t4242\n").value() == 4242);
  CHECK_FALSE(ParseNsPid("Name:\tsh\nPid:\t4242\n").ok());  // before Linux 4.1
  CHECK_FALSE(ParseNsPid("NSpid:\n").ok());
  CHECK_FALSE(ParseNsPid("NSpid:\t12x\n").ok());
}

TEST_CASE("TaskSampler walks descendant cgroups and a fake proc root") {
  TempDir t;
  t.Write({
      {"cpu/ct/tasks", "10\n11\n13\n"},  // 13 has exited
      {"cpu/ct/sub/tasks", "30\n"},
      {"cpu/ct/sub/deeper/tasks", "12\n"},
      {"cpu/other/tasks", "99\n"},  // a sibling: not the container's
      {"proc/10/task/10/stat", "10 (sh) S 1 10 10 0 -1 4194560\n"},
      {"proc/11/task/11/stat", "11 (busy loop) R 10 10 10 0\n"},
      {"proc/12/task/12/stat", "12 (dd) D 10 10 10 0\n"},
      {"proc/30/task/30/stat", "30 (kworker-ish) I 10 10 10 0\n"},
      {"proc/30/task/30/status", "Name:\tx\nNSpid:\t30\t5\n"},
      {"proc/99/task/99/stat", "99 (other) R 1\n"},
  });
  TaskSampler sampler;
  auto s = sampler.Sample({1, t.path() + "/cpu/ct", t.path() + "/cpu"}, {}, t.path() + "/proc");
  REQUIRE(s.ok());
  CHECK(s->total == 4);
  CHECK(s->running == 1);
  CHECK(s->uninterruptible == 1);  // I (idle) does not count
  CHECK(s->last_pid == 5);         // tid 30, the largest, is 5 inside
}

TEST_CASE("TaskSampler over the real /proc with this process's threads") {
  std::promise<pid_t> tid_promise;
  std::promise<void> release;
  std::thread sleeper([&] {
    tid_promise.set_value(::gettid());
    release.get_future().wait();
  });
  const pid_t sleeper_tid = tid_promise.get_future().get();
  TempDir t;
  t.Write({{"cg/ct/cgroup.threads", std::to_string(::gettid()) + "\n"},
           {"cg/ct/child/cgroup.threads", std::to_string(sleeper_tid) + "\n999999999\n"}});
  TaskSampler sampler;
  auto s = sampler.Sample({2, t.path() + "/cg/ct", t.path() + "/cg"});
  const pid_t newest = std::max(::gettid(), sleeper_tid);
  auto status = ReadFile("/proc/" + std::to_string(newest) + "/status");
  release.set_value();
  sleeper.join();
  REQUIRE(s.ok());
  REQUIRE(status.ok());
  CHECK(s->total == 2);    // 999999999 is above any pid_max: skipped
  CHECK(s->running >= 1);  // this thread, reading its own stat
  CHECK(s->last_pid == ParseNsPid(*status).value());
}

TEST_CASE("TaskSampler fails without the cgroup's own list") {
  TempDir t;
  TaskSampler sampler;
  CHECK_FALSE(sampler.Sample({2, t.path() + "/gone", t.path()}).ok());
  CHECK_FALSE(sampler.Sample({0, t.path(), t.path()}).ok());
}

namespace {

// A v2 container of n threads, tids 1000..1000+n-1, whose states come from
// state_of(i); every stat file watched for opens.
struct ThreadTree {
  template <typename F>
  ThreadTree(int n, F state_of) {
    std::map<std::string, std::string> files;
    std::string list;
    for (int i = 0; i < n; ++i) {
      const std::string tid = std::to_string(1000 + i);
      list += tid + "\n";
      files["proc/" + tid + "/task/" + tid + "/stat"] = tid + " (t) " + state_of(i) + " 1 1 1 0\n";
    }
    files["cg/ct/cgroup.threads"] = list;
    t.Write(files);
    for (int i = 0; i < n; ++i) {
      const std::string tid = std::to_string(1000 + i);
      watch.Add(t.path() + "/proc/" + tid + "/task/" + tid + "/stat");
    }
  }
  CgroupDir cg() const { return {2, t.path() + "/cg/ct", t.path() + "/cg"}; }
  std::string proc() const { return t.path() + "/proc"; }

  TempDir t;
  OpenWatch watch;
};

}  // namespace

TEST_CASE("TaskSampler opens at most its budget of stat files a sample, every thread in turn") {
  // Before the bound, every sample opened all 1000 (and each /proc/<tid>/stat
  // summed over the whole process).
  ThreadTree tree(1000, [](int) { return "S"; });
  TaskSampler sampler;  // kTaskStatBudget
  std::set<std::string> all;
  for (int i = 0; i < 4; ++i) {
    auto s = sampler.Sample(tree.cg(), {}, tree.proc());
    REQUIRE(s.ok());
    CHECK(s->total == 1000);  // no pids cgroup: the list's size
    const std::set<std::string> opened = tree.watch.Opened();
    CHECK(opened.size() <= kTaskStatBudget);
    CHECK(opened.size() >= kTaskStatBudget - 1);  // the pass ends within the 4th
    all.insert(opened.begin(), opened.end());
  }
  CHECK(all.size() == 1000);  // ceil(1000 / 256) samples read every thread once
}

TEST_CASE("TaskSampler scales the sampled counts up to the container's thread count") {
  // 400 threads, budget 100: every 4th running, every 10th blocked, and
  // tids 1000..1099 (the first batch) of which 20 have exited.
  ThreadTree tree(400, [](int i) { return i % 4 == 0 ? "R" : i % 10 == 5 ? "D" : "S"; });
  for (int i = 80; i < 100; ++i) {
    std::filesystem::remove_all(tree.proc() + "/" + std::to_string(1000 + i));
  }
  tree.t.Write({{"pids/ct/pids.current", "2000\n"}});
  const CgroupDir pids{2, tree.t.path() + "/pids/ct", tree.t.path() + "/pids"};
  TaskSampler sampler(100);

  // Batch 1: tids 1000..1099, 80 alive: 20 running (i % 4 == 0, i < 80),
  // 8 blocked (i = 5, 15, ..., 75); scaled to pids.current's 2000:
  // 20 * 2000 / 80 = 500, 8 * 2000 / 80 = 200.
  auto s = sampler.Sample(tree.cg(), pids, tree.proc());
  REQUIRE(s.ok());
  CHECK(s->total == 2000);
  CHECK(s->running == 500);
  CHECK(s->uninterruptible == 200);
  // Batch 2: 100..199, all alive: 25 running, 10 blocked (i % 10 == 5 is
  // odd, never running): 25 * 2000 / 100 = 500, 10 * 2000 / 100 = 200.
  s = sampler.Sample(tree.cg(), pids, tree.proc());
  REQUIRE(s.ok());
  CHECK(s->running == 500);
  CHECK(s->uninterruptible == 200);
  // Without a pids cgroup the total is the list's 400: 25 * 400 / 100 = 100.
  s = sampler.Sample(tree.cg(), {}, tree.proc());
  REQUIRE(s.ok());
  CHECK(s->total == 400);
  CHECK(s->running == 100);
  CHECK(s->uninterruptible == 40);
}

TEST_CASE("A rotating sample's load average converges on the exact one") {
  // 250 threads of which 75 run, bunched together (the worst case for a
  // sample taken in turn), 64 read a sample: one sample may see all or none
  // of them, but after two hours of a sample every 5 s (what the averages
  // fold; the renderer samples every interval) the 5- and 15-minute
  // averages are within 5%.
  ThreadTree tree(250, [](int i) { return i < 75 ? "R" : "S"; });
  TaskSampler sampler(64);
  LoadAverage estimated, exact;
  for (int64_t t = 0; t <= 7200; t += 5) {
    auto s = sampler.Sample(tree.cg(), {}, tree.proc());
    REQUIRE(s.ok());
    estimated.Sample(s->running, t * 1000);
    exact.Sample(75, t * 1000);
    tree.watch.Opened();  // keeps inotify's queue short
  }
  MESSAGE("estimated ", RenderLoadavg(estimated, {}), "exact ", RenderLoadavg(exact, {}));
  CHECK(exact.avenrun()[2] == 75 * kFixed1);
  for (int i : {1, 2}) {
    const double e = static_cast<double>(estimated.avenrun()[i]);
    CHECK(std::abs(e - 75.0 * kFixed1) / (75.0 * kFixed1) < 0.05);
  }
}

TEST_CASE("A constant load of 1 for 60 s follows the kernel's recurrence") {
  std::array<uint64_t, 3> expect{};
  const uint64_t exps[3] = {1884, 2014, 2037};
  for (int period = 0; period < 12; ++period) {
    for (int i = 0; i < 3; ++i) expect[i] = Step(expect[i], exps[i], 2048);
  }
  LoadAverage la;
  Run(la, 1, 0, 60);
  CHECK(la.avenrun() == expect);
  CHECK(la.avenrun() == std::array<uint64_t, 3>{1299, 378, 132});
  // 1 - e^-1 = 0.632: the textbook one-minute figure after a minute.
  CHECK(RenderLoadavg(la, {1, 0, 3, 42}) == "0.63 0.18 0.06 1/3 42\n");

  Run(la, 1, 61, 3600);  // an hour later every average has converged
  CHECK(la.avenrun() == std::array<uint64_t, 3>{2048, 2048, 2048});
  CHECK(RenderLoadavg(la, {1, 0, 1, 1}) == "1.00 1.00 1.00 1/1 1\n");
}

TEST_CASE("An idle container decays to exactly zero") {
  LoadAverage la;
  Run(la, 3, 0, 60);
  CHECK(la.avenrun() == std::array<uint64_t, 3>{3892, 1123, 390});
  CHECK(RenderLoadavg(la, {3, 1, 17, 120}) == "1.90 0.55 0.19 3/17 120\n");
  Run(la, 0, 61, 60);
  CHECK(RenderLoadavg(la, {0, 0, 17, 120}) == "0.70 0.45 0.18 0/17 120\n");
  Run(la, 0, 122, 3600);
  CHECK(la.avenrun() == std::array<uint64_t, 3>{0, 0, 0});
  CHECK(RenderLoadavg(la, {0, 0, 1, 1}) == "0.00 0.00 0.00 0/1 1\n");
}

TEST_CASE("Periods fold only when they end; missed ones fold like calc_load_n") {
  LoadAverage la;
  la.Sample(4, 1'000);  // starts the clock: the first period ends at 6 s
  la.Sample(4, 5'999);
  CHECK(la.avenrun() == std::array<uint64_t, 3>{0, 0, 0});
  la.Sample(1, 6'000);  // the latest sample counts, not the earlier 4
  CHECK(la.avenrun()[0] == Step(0, 1884, 2048));
  la.Sample(1, 2'000);  // a clock going backwards changes nothing
  CHECK(la.avenrun()[0] == Step(0, 1884, 2048));

  LoadAverage gap;
  gap.Sample(1, 0);
  gap.Sample(1, 60'000);  // 12 periods at once: calc_load, then calc_load_n(11)
  // fixed_power_int(1884, 11, 11) = 816 (by hand: squarings rounded to nearest).
  CHECK(CalcLoadN(164, 1884, 2048, 11) == Step(164, 816, 2048));
  CHECK(gap.avenrun() == std::array<uint64_t, 3>{1298, 372, 130});
  CHECK(CalcLoadN(700, 1884, 0, 1) == CalcLoad(700, 1884, 0));
  CHECK(CalcLoadN(700, 1884, 0, 0) == 700);
}

TEST_CASE("RenderLoadavg truncates to hundredths after the kernel's FIXED_1/200") {
  LoadAverage la;
  la.Sample(100, 0);
  la.Sample(100, 5'000);  // one period: 100 * (2048 - 1884) / 2048 = 8.0078...
  CHECK(la.avenrun()[0] == Step(0, 1884, 204800));
  CHECK(RenderLoadavg(la, {100, 0, 250, 31}) == "8.01 1.66 0.54 100/250 31\n");
}
