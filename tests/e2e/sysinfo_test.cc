// sysinfo(2) in wrapper mode: runc containers created through `prochook
// runtime`, whose per-container agent answers sysinfo from the files the
// renderer writes (256 MiB, one CPU).
#include <doctest/doctest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <signal.h>
#include <sys/sysinfo.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>
#include <optional>
#include <sstream>

#include <nlohmann/json.hpp>

#include "tests/e2e/engines.h"
#include "tests/e2e/harness.h"
#include "tests/e2e/sysinfo_calls.h"
#include "tests/e2e/wrapper.h"
#include "tests/testing.h"

namespace fs = std::filesystem;
using namespace prochook::e2e;
using namespace std::chrono_literals;

namespace {

constexpr uint64_t kLimit = 256ull << 20;
// glibc's _SC_PHYS_PAGES comes from sysinfo(2).
const std::vector<std::string> kPhysBytes = {
    "python3", "-c", "import os; print(os.sysconf('SC_PHYS_PAGES') * os.sysconf('SC_PAGE_SIZE'))"};

// The init calls sysinfo once as it starts, into /tmp/init.txt: the
// init's own notify fd, not an exec's.
void CallFromInit(const Container& c) {
  const std::string path = c.bundle() + "/config.json";
  nlohmann::json config = nlohmann::json::parse(ReadText(path));
  config["process"]["args"] = {"sh", "-c", "/opt/caller/sysinfo_caller > /tmp/init.txt; exec sleep 100000"};
  std::ofstream(path) << config.dump(2);
}

struct sysinfo HostSysinfo() {
  struct sysinfo s;
  REQUIRE(::sysinfo(&s) == 0);
  return s;
}

// Proves the files are served (RequireServed) and differ from the host's.
void RequireServedThroughWrapper(const Container& c) {
  RequireServed(c);
  RunResult cat = c.Exec({"cat", "/proc/meminfo"});
  REQUIRE(cat.exit_code == 0);
  REQUIRE(MeminfoFields(cat.out).at("MemTotal") == kLimit >> 10);
  REQUIRE(MeminfoFields(ReadText("/proc/meminfo")).at("MemTotal") != kLimit >> 10);
}

// Served, but sysinfo left to the kernel: the host's RAM, no trap in the
// config the runtime was given.
void CheckKernelAnswers(const Container& c) {
  RequireServedThroughWrapper(c);
  const Answer a = Call(c);
  CHECK(a.ret == 0);
  CHECK(a.totalram * a.mem_unit == HostSysinfo().totalram * HostSysinfo().mem_unit);
  const nlohmann::json config = nlohmann::json::parse(ReadText(c.bundle() + "/config.json"));
  CHECK_FALSE(config["linux"]["seccomp"].contains("listenerPath"));
}

// Starts the container and proves it is served and its sysinfo answered;
// returns its agent's pid.
int StartAnswered(Container& c) {
  REQUIRE(c.Start().exit_code == 0);
  RequireServedThroughWrapper(c);
  REQUIRE(Call(c).totalram == kLimit);
  const int agent = std::atoi(ReadText(c.state_dir() + "/agent.pid").c_str());
  REQUIRE(Alive(agent));
  return agent;
}

// "0.52 0.58 0.59 2/345 12345": the total and the 1-minute load << 16.
std::pair<unsigned, uint64_t> LoadavgTotalAndLoad(const std::string& text) {
  std::istringstream in(text);
  std::string l1, l5, l15, tasks;
  in >> l1 >> l5 >> l15 >> tasks;
  const unsigned total = static_cast<unsigned>(std::stoul(tasks.substr(tasks.find('/') + 1)));
  return {total, static_cast<uint64_t>(std::stod(l1) * 65536)};
}

// glibc's _SC_PHYS_PAGES (Python) and busybox free in an engine's
// container: 256 MiB, from the agent.
void CheckEngineAnswers(const EngineContainer& c) {
  RunResult py = c.Exec(kPhysBytes);
  INFO("python3: " << py.out << py.err);
  CHECK(py.out == std::to_string(kLimit) + "\n");
  RunResult free = c.Exec({"busybox", "free"});
  INFO("busybox free:\n" << free.out << free.err);
  CHECK(free.out.find(" 262144 ") != std::string::npos);
}

std::vector<std::string> Cat(std::vector<std::string> a, const std::vector<std::string>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

}  // namespace

TEST_CASE("sysinfo: a 256 MiB container made through the wrapper gets its own figures") {
  if (SkipUnlessReady({"busybox"})) return;
  WrapperFixture fx;
  Container c(fx.Options());
  CallFromInit(c);
  RunResult start = c.Start();
  REQUIRE_MESSAGE(start.exit_code == 0, "runc run through the wrapper: " << start.err);
  RequireServedThroughWrapper(c);

  const Answer a = Call(c);
  CHECK(a.ret == 0);
  CHECK(a.mem_unit == 1);
  CHECK(a.totalram == kLimit);
  CHECK(a.freeram <= kLimit);
  CHECK(a.freeram > kLimit / 2);
  CHECK(a.totalhigh == 0);
  CHECK(a.freehigh == 0);
  // The container's own clock (a time namespace): its uptime, as in /proc/uptime.
  const long up = std::atol(c.Exec({"cat", "/proc/uptime"}).out.c_str());
  CHECK(a.uptime < HostSysinfo().uptime);
  CHECK(std::labs(a.uptime - up) <= 1);

  // A caller of another uid (its /proc/<pid>/mem is its own, 0600).
  std::vector<std::string> as_user = {"timeout", "20"};
  for (const std::string& arg : c.Runc({"exec", "--user", "1000:1000", c.id(), "/opt/caller/sysinfo_caller"})) {
    as_user.push_back(arg);
  }
  RunResult user = Run(as_user);
  INFO("as uid 1000: " << user.out << user.err);
  CHECK(user.exit_code == 0);
  const auto user_answer = ParseAnswer(user.out);
  REQUIRE(user_answer.has_value());
  CHECK(user_answer->totalram == kLimit);

  // procs and loads are the rendered loadavg's: the call between two reads
  // of one rendering (the same text twice) answers exactly that rendering's
  // figures. A refresh between them (a task count that moved) tries again.
  std::optional<Answer> answer;
  std::string loadavg;
  for (int attempt = 0; attempt < 10 && !answer; ++attempt) {
    RunResult three = c.Exec({"sh", "-c", "cat /proc/loadavg; /opt/caller/sysinfo_caller; cat /proc/loadavg"});
    REQUIRE(three.exit_code == 0);
    std::istringstream out(three.out);
    std::string before, call, after;
    std::getline(out, before);
    std::getline(out, call);
    std::getline(out, after);
    INFO("loadavg, sysinfo, loadavg: " << three.out);
    if (before != after) continue;
    answer = ParseAnswer(call);
    REQUIRE(answer.has_value());
    loadavg = before;
  }
  REQUIRE_MESSAGE(answer.has_value(), "no two reads of one rendering in 10 tries");
  const auto [total, load1] = LoadavgTotalAndLoad(loadavg);
  INFO("sysinfo procs " << answer->procs << ", loads[0] " << answer->loads[0] << "; loadavg: " << loadavg);
  CHECK(answer->procs < HostSysinfo().procs);
  CHECK(answer->procs == total);
  CHECK(answer->loads[0] <= load1 + 1);  // 1/65536: rounding of the two decimals
  CHECK(answer->loads[0] + 1 >= load1);

  // The init's own call, through the fd runc handed over at create.
  RunResult init = c.Exec({"cat", "/tmp/init.txt"});
  REQUIRE(init.exit_code == 0);
  const auto from_init = ParseAnswer(init.out);
  REQUIRE_MESSAGE(from_init.has_value(), init.out);
  CHECK(from_init->totalram == kLimit);

  // glibc's _SC_PHYS_PAGES and busybox (static) free use sysinfo.
  RunResult py = c.Exec(kPhysBytes);
  CHECK(py.out == std::to_string(kLimit) + "\n");
  RunResult free = c.Exec({"busybox", "free"});
  INFO("busybox free:\n" << free.out);
  std::istringstream lines(free.out);
  std::string header, label;
  uint64_t total_kb = 0;
  std::getline(lines, header);
  lines >> label >> total_kb;
  CHECK(label == "Mem:");
  CHECK(total_kb == kLimit >> 10);
}

TEST_CASE("sysinfo: 64 MiB written to /dev/shm lower freeram and raise sharedram by ~64 MiB") {
  if (SkipUnlessReady()) return;
  WrapperFixture fx;
  Container c(fx.Options());
  REQUIRE(c.Start().exit_code == 0);
  RequireServedThroughWrapper(c);
  const Answer before = Call(c);
  REQUIRE(before.totalram == kLimit);
  RunResult dd = c.Exec({"dd", "if=/dev/zero", "of=/dev/shm/fill", "bs=1M", "count=64"});
  REQUIRE_MESSAGE(dd.exit_code == 0, dd.err);
  Answer after;
  const bool lowered = WaitFor(10s, [&] {
    after = Call(c);
    return after.freeram + (60ull << 20) <= before.freeram;
  });
  INFO("freeram before " << before.freeram << ", after " << after.freeram);
  CHECK(lowered);
  CHECK(after.freeram + (72ull << 20) >= before.freeram);  // ~64 MiB, not much more
  CHECK(after.sharedram >= before.sharedram + (64ull << 20));
}

TEST_CASE("sysinfo: io.prochook.sysinfo=off leaves the kernel's answer (files still served)") {
  if (SkipUnlessReady()) return;
  WrapperFixture fx;
  Container c(fx.Options({{"io.prochook.sysinfo", "off"}}));
  REQUIRE(c.Start().exit_code == 0);
  CheckKernelAnswers(c);
  CHECK_FALSE(fs::exists(c.state_dir() + "/sysinfo"));
}

TEST_CASE("sysinfo: an agent that cannot start leaves the container untrapped, and it starts") {
  if (SkipUnlessReady()) return;
  WrapperFixture fx;
  Container c(fx.Options());
  // A leftover directory at the container's path: the wrapper does not
  // take it over (the hook does, as stale state).
  REQUIRE(::mkdir(c.state_dir().c_str(), 0700) == 0);
  RunResult start = c.Start();
  REQUIRE_MESSAGE(start.exit_code == 0, start.err);
  CheckKernelAnswers(c);
}

TEST_CASE("sysinfo: the container and its agent leave nothing behind once deleted") {
  if (SkipUnlessReady()) return;
  WrapperFixture fx;
  Container c(fx.Options());
  const std::string dir = c.state_dir();
  const int agent = StartAnswered(c);
  c.Stop();
  CHECK(WaitFor(5s, [&] { return !fs::exists(dir); }));
  CHECK(WaitFor(5s, [&] { return !Alive(agent); }));
}

TEST_CASE("sysinfo: the agent SIGKILLed, calls and execs wait for repair, then get the container's figures") {
  if (SkipUnlessReady()) return;
  WrapperFixture fx;
  Container c(fx.Options());
  const std::string dir = c.state_dir();
  const int agent = StartAnswered(c);
  REQUIRE(::kill(agent, SIGKILL) == 0);
  REQUIRE(WaitFor(5s, [&] { return !Alive(agent); }));

  // An exec now: runc's connection waits in the socket's backlog (the
  // holder keeps it open) and the call in the kernel (the holder keeps the
  // notify fd open): neither fails, neither returns.
  auto pending = std::async(std::launch::async, [&] { return c.Exec({"/opt/caller/sysinfo_caller"}); });
  CHECK(pending.wait_for(1500ms) == std::future_status::timeout);

  RunResult repair = Run({ProchookBinary(), "repair"});
  INFO("repair: " << repair.out << repair.err);
  CHECK(repair.exit_code == 0);
  CHECK(repair.out.find(c.state_dir_name() + ": sysinfo agent restarted\n") != std::string::npos);
  CHECK(repair.out.find(c.state_dir_name() + ": renderer restarted") == std::string::npos);
  REQUIRE(pending.wait_for(10s) == std::future_status::ready);
  const RunResult waited = pending.get();
  INFO("the waiting exec: " << waited.out << waited.err);
  CHECK(waited.exit_code == 0);
  const auto answer = ParseAnswer(waited.out);
  REQUIRE(answer.has_value());
  CHECK(answer->ret == 0);
  CHECK(answer->totalram == kLimit);

  // A new agent serves from now on, the init's fd included.
  const int successor = std::atoi(ReadText(dir + "/agent.pid").c_str());
  CHECK(successor != agent);
  CHECK(Alive(successor));
  const Answer after = Call(c);
  CHECK(after.ret == 0);
  CHECK(after.totalram == kLimit);
}

TEST_CASE("sysinfo: made again with the same id and bundle, the new agent's socket outlives the old agent") {
  if (SkipUnlessReady()) return;
  WrapperFixture fx;
  Container c(fx.Options());
  const std::string dir = c.state_dir();
  const int old_agent = StartAnswered(c);
  // The old agent ends only after the new container exists (as when an
  // engine restarts a container at once): stopped meanwhile.
  REQUIRE(::kill(old_agent, SIGSTOP) == 0);
  c.Stop();
  REQUIRE(WaitFor(10s, [&] { return !fs::exists(dir); }));
  struct Again {
    const Container& c;
    ~Again() {
      Run(c.Runc({"kill", c.id(), "KILL"}));
      Run(c.Runc({"delete", "--force", c.id()}));
    }
  } again{c};
  RunResult rerun = Run(c.Runc({"run", "-d", "--bundle", c.bundle(), c.id()}));
  REQUIRE_MESSAGE(rerun.exit_code == 0, rerun.err);
  REQUIRE(::kill(old_agent, SIGCONT) == 0);
  CHECK(WaitFor(5s, [&] { return !Alive(old_agent); }));
  const Answer a = Call(c);
  CHECK(a.totalram == kLimit);
}

TEST_CASE("sysinfo: crun through the wrapper hands the agent its notify fds too") {
  if (SkipUnlessReady({"crun"})) return;
  PrepareCgroupsForCrun();
  WrapperFixture fx("crun");
  Container c(fx.Options());
  StartAnswered(c);
  RunResult py = c.Exec(kPhysBytes);
  CHECK(py.out == std::to_string(kLimit) + "\n");
}

TEST_CASE("sysinfo: docker through the wrapper (its default seccomp profile) answers from the container's files") {
  if (SkipUnlessReady(Cat({"busybox"}, EngineTools(Engine::kDocker)))) return;
  EngineContainer c(Engine::kDocker, {});
  REQUIRE_MESSAGE(c.start().exit_code == 0, "start: " << c.start().err << c.start().out);
  const std::string dir = StateDirFor(c.id());
  REQUIRE_MESSAGE(fs::exists(dir + "/state.json"), "no state dir " << dir);
  // Served first: its meminfo is prochook's.
  REQUIRE(c.Exec({"head", "-n", "1", "/proc/meminfo"}).out == "MemTotal:         262144 kB\n");
  const int agent = std::atoi(ReadText(dir + "/agent.pid").c_str());
  REQUIRE(Alive(agent));

  CheckEngineAnswers(c);

  c.Remove();
  CHECK(WaitFor(10s, [&] { return !fs::exists(dir); }));
  CHECK(WaitFor(5s, [&] { return !Alive(agent); }));
}

TEST_CASE("sysinfo: containerd (ctr) and podman through the wrapper answer from the container's files") {
  for (const Engine engine : {Engine::kContainerd, Engine::kPodmanWrapper}) {
    CAPTURE(EngineName(engine));
    if (SkipUnlessReady(Cat({"busybox"}, EngineTools(engine)))) return;
    EngineContainer c(engine, {});
    REQUIRE_MESSAGE(c.start().exit_code == 0, "start: " << c.start().err << c.start().out);
    REQUIRE(c.Exec({"head", "-n", "1", "/proc/meminfo"}).out == "MemTotal:         262144 kB\n");
    CheckEngineAnswers(c);
  }
}

TEST_CASE("sysinfo: 500 calls a second for 10 s are all answered with the container's figures") {
  if (SkipUnlessReady()) return;
  WrapperFixture fx;
  Container c(fx.Options());
  const int agent = StartAnswered(c);
  const auto cpu = [&] {
    std::istringstream in(ReadText("/proc/" + std::to_string(agent) + "/stat").substr(
        ReadText("/proc/" + std::to_string(agent) + "/stat").rfind(')') + 2));
    std::string f;
    long utime = 0, stime = 0;
    for (int i = 3; i <= 15; ++i) {
      in >> f;
      if (i == 14) utime = std::stol(f);
      if (i == 15) stime = std::stol(f);
    }
    return utime + stime;
  };
  const long cpu_before = cpu();
  RunResult r = c.Exec({"/opt/caller/sysinfo_caller", "--rate", "500", "--seconds", "10"});
  const long ticks = cpu() - cpu_before;
  INFO("calls failed changes elapsed_ms mean_us p99_us max_us totalram: " << r.out << r.err);
  REQUIRE(r.exit_code == 0);
  std::istringstream in(r.out);
  long calls = 0, failed = -1, changes = -1, elapsed_ms = 0;
  double mean_us = 0, p99_us = 0, max_us = 0;
  uint64_t totalram = 0;
  in >> calls >> failed >> changes >> elapsed_ms >> mean_us >> p99_us >> max_us >> totalram;
  REQUIRE(in);
  CHECK(calls == 5000);
  CHECK(failed == 0);
  CHECK(changes == 0);
  CHECK(totalram == kLimit);
  CHECK(elapsed_ms < 11000);  // kept pace: no call waited long for the agent
  MESSAGE("500 sysinfo/s for 10 s: mean " << mean_us << " us, p99 " << p99_us << " us, max " << max_us
                                          << " us; agent CPU " << ticks * 10 << " ms");
}
