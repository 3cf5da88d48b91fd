// The container's own clock in wrapper mode: `prochook runtime` gives a
// container with a pid namespace of its own a time namespace, so its
// uptime counts from its creation while ps, top and the engines' own
// commands stay right (runc, crun, Docker, containerd, podman).
#include <doctest/doctest.h>
#include <sys/sysinfo.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <functional>
#include <sstream>
#include <thread>

#include "tests/e2e/engines.h"
#include "tests/e2e/harness.h"
#include "tests/e2e/wrapper.h"
#include "tests/testing.h"

namespace fs = std::filesystem;
using namespace prochook::e2e;
using namespace std::chrono_literals;

namespace {

using ExecFn = std::function<RunResult(const std::vector<std::string>&)>;

double HostUptime() { return std::stod(ReadText("/proc/uptime")); }

// /proc/uptime, btime and the wall clock, read together inside.
struct Clock {
  double uptime = 0;
  long long btime = 0, now = 0;
};

Clock ReadClock(const ExecFn& exec) {
  RunResult r = exec({"sh", "-c", "cut -d' ' -f1 /proc/uptime; grep '^btime ' /proc/stat | cut -d' ' -f2; date +%s"});
  INFO("clock: " << r.out << r.err);
  REQUIRE(r.exit_code == 0);
  std::istringstream in(r.out);
  Clock c;
  in >> c.uptime >> c.btime >> c.now;
  REQUIRE(in);
  return c;
}

// The container's clock started with it (during what began at host
// uptime t0), far from the host's, and btime + uptime is now: START in ps
// is wall-clock time.
void CheckOwnClock(const ExecFn& exec, double t0) {
  const Clock c = ReadClock(exec);
  const double max_age_s = HostUptime() - t0 + 1;
  INFO("uptime " << c.uptime << " (host " << HostUptime() << "), btime " << c.btime << ", now " << c.now);
  CHECK(c.uptime >= 0);
  CHECK(c.uptime <= max_age_s);
  CHECK(c.uptime + 5 < HostUptime());
  // Read one after the other by three programs (slow under emulation).
  CHECK(std::llabs(c.btime + static_cast<long long>(c.uptime) - c.now) <= 5);
}

// A busy loop started 3 s earlier: ps says ELAPSED 3, START the wall-clock
// time it started, %CPU high; all in the container's clock.
void CheckPs(const ExecFn& exec) {
  RunResult r = exec({"sh", "-c",
                      "while :; do :; done & b=$!; sleep 3; ps -o etimes=,pcpu= -p $b; "
                      "date -d \"$(ps -o lstart= -p $b)\" +%s; date +%s; kill $b"});
  INFO("ps: " << r.out << r.err);
  REQUIRE(r.exit_code == 0);
  std::istringstream in(r.out);
  long etimes = 0;
  double pcpu = 0;
  long long start = 0, now = 0;
  in >> etimes >> pcpu >> start >> now;
  REQUIRE(in);
  // Bounds wide enough for a loaded host or an emulated guest; what they
  // catch is a clock mixed up (a negative age, ages of hours, %CPU 0).
  CHECK(etimes >= 3);
  CHECK(etimes <= 10);
  CHECK(pcpu >= 20);
  CHECK(pcpu <= 101);
  CHECK(now - start >= 3);
  CHECK(now - start <= 10);
}

// The files are served (MemTotal is the limit, not the host's).
void RequireMemTotal(const ExecFn& exec) {
  RunResult r = exec({"head", "-n", "1", "/proc/meminfo"});
  REQUIRE_MESSAGE(r.out == "MemTotal:         262144 kB\n", "not served: " << r.out << r.err);
}

ExecFn ExecOf(const Container& c) {
  return [&c](const std::vector<std::string>& argv) { return c.Exec(argv); };
}
ExecFn ExecOf(const EngineContainer& c) {
  return [&c](const std::vector<std::string>& argv) { return c.Exec(argv); };
}

// The wrapper's lines about container id in the hooks' log.
std::string WrapperLogFor(const std::string& id) {
  std::istringstream in(ReadText("/run/prochook/hook.log.1") + ReadText("/run/prochook/hook.log"));
  std::string out;
  for (std::string line; std::getline(in, line);) {
    if (line.find("prochook runtime " + id + "[") != std::string::npos) out += line + "\n";
  }
  return out;
}

std::string TimeNamespace(int pid) {
  std::error_code ec;
  return fs::read_symlink("/proc/" + std::to_string(pid) + "/ns/time", ec).string();
}

}  // namespace

TEST_CASE("timens: runc through the wrapper: the container's uptime, ps and top right, the runtime sees it running") {
  if (SkipUnlessReady({"busybox"})) return;
  WrapperFixture fx;
  // Asked for the rendered container uptime too: with a clock of its own
  // the kernel's is right, and nothing is mounted over it.
  Container c(fx.Options({{"io.prochook.uptime", "container"}}));
  const double before = HostUptime();
  RunResult start = c.Start();
  REQUIRE_MESSAGE(start.exit_code == 0, start.err);
  RequireServed(c);
  RequireMemTotal(ExecOf(c));
  CheckOwnClock(ExecOf(c), before);
  CHECK(TimeNamespace(c.InitPid()) != TimeNamespace(getpid()));
  const std::string said = WrapperLogFor(c.id());
  INFO("the wrapper's log: " << said);
  CHECK(said.find("a clock of its own (boottime offset -") != std::string::npos);

  CheckPs(ExecOf(c));
  // top's %CPU of a busy loop, from the second frame (deltas over the
  // container's uptime). Under a shell: runc forwards SIGURG (tools_test).
  RunResult top = c.Exec({"sh", "-c",
                          "while :; do :; done & b=$!; top -bn2 -d 1 -p $b | tail -n 1; kill $b"});
  INFO("top: " << top.out << top.err);
  REQUIRE(top.exit_code == 0);
  std::istringstream fields(top.out);
  std::string f;
  for (int i = 0; i < 9; ++i) fields >> f;  // PID USER PR NI VIRT RES SHR S %CPU
  CHECK(std::stod(f) >= 20);

  // No uptime file over the kernel's; busybox uptime (sysinfo, answered by
  // the agent) agrees.
  RunResult mounts = c.Exec({"cat", "/proc/self/mountinfo"});
  CHECK(mounts.out.find(" /proc/meminfo ") != std::string::npos);
  CHECK(mounts.out.find(" /proc/uptime ") == std::string::npos);
  RunResult bb = c.Exec({"busybox", "uptime"});
  INFO("busybox uptime: " << bb.out);
  CHECK(bb.out.find("up 0 min") != std::string::npos);
  // psutil.boot_time() (btime) is when the container was made.
  RunResult boot = c.Exec({"python3", "-c", "import psutil, time; print(int(time.time() - psutil.boot_time()))"});
  INFO("psutil: " << boot.out << boot.err);
  CHECK(std::atol(boot.out.c_str()) <= static_cast<long>(HostUptime() - before) + 2);
  // An exec'd process shares the clock: the init, seen from it, is as old
  // as the container.
  RunResult ps1 = c.Exec({"ps", "-o", "etimes=", "-p", "1"});
  CHECK(std::atof(ps1.out.c_str()) <= HostUptime() - before + 1);

  // The runtime's own view, through the wrapper, and prochook's.
  RunResult state = Run(c.Runc({"state", c.id()}));
  CHECK(state.out.find("\"running\"") != std::string::npos);
  RunResult ps = Run({ProchookBinary(), "ps"});
  INFO("prochook ps: " << ps.out);
  CHECK(ps.out.find("serving") != std::string::npos);
  const std::string dir = c.state_dir();
  c.Stop();
  CHECK(WaitFor(10s, [&] { return !fs::exists(dir); }));
}

TEST_CASE("timens: the host's pid namespace or io.prochook.timens=off keep the host's clock") {
  if (SkipUnlessReady()) return;
  WrapperFixture fx;
  for (const bool host_pid : {true, false}) {
    CAPTURE(host_pid);
    Container::Options o = fx.Options(host_pid ? std::map<std::string, std::string>{}
                                               : std::map<std::string, std::string>{{"io.prochook.timens", "off"}});
    if (host_pid) o.pid_ns = "host";
    Container c(o);
    REQUIRE(c.Start().exit_code == 0);
    RequireServed(c);
    const double up = std::stod(c.Exec({"cat", "/proc/uptime"}).out);
    CHECK(std::abs(up - HostUptime()) <= 2);
    CHECK(TimeNamespace(c.InitPid()) == TimeNamespace(getpid()));
    CHECK(WrapperLogFor(c.id()).find(host_pid ? "the host's clock: it shares the host's pid namespace"
                                              : "the host's clock: io.prochook.timens=off") != std::string::npos);
  }
}

TEST_CASE("timens: a container joining another's pid namespace joins its clock") {
  if (SkipUnlessReady()) return;
  WrapperFixture fx;
  Container a(fx.Options());
  REQUIRE(a.Start().exit_code == 0);
  RequireServed(a);
  std::this_thread::sleep_for(3s);
  Container::Options o = fx.Options();
  o.pid_ns = "/proc/" + std::to_string(a.InitPid()) + "/ns/pid";
  Container b(o);
  REQUIRE(b.Start().exit_code == 0);
  RequireServed(b);
  CHECK(TimeNamespace(b.InitPid()) == TimeNamespace(a.InitPid()));
  // b's uptime is a's: 3 s or more, and a's init, seen from b, is as old.
  const Clock clock = ReadClock(ExecOf(b));
  CHECK(clock.uptime >= 3);
  CHECK(clock.uptime + 5 < HostUptime());
  RunResult ps = b.Exec({"ps", "-o", "etimes=", "-p", "1"});
  CHECK(std::llabs(std::atol(ps.out.c_str()) - static_cast<long>(clock.uptime)) <= 1);
}

TEST_CASE("timens: crun through the wrapper") {
  if (SkipUnlessReady({"crun"})) return;
  PrepareCgroupsForCrun();
  WrapperFixture fx("crun");
  Container c(fx.Options());
  const double before = HostUptime();
  REQUIRE(c.Start().exit_code == 0);
  RequireServed(c);
  RequireMemTotal(ExecOf(c));
  CheckOwnClock(ExecOf(c), before);
  CheckPs(ExecOf(c));
  CHECK(Run(c.Runc({"state", c.id()})).out.find("\"running\"") != std::string::npos);
}

TEST_CASE("timens: docker run, exec, top, stop, start, restart, dockerd restarted, exit by itself, OOM, rm") {
  if (SkipUnlessReady(EngineTools(Engine::kDocker))) return;
  double t0 = HostUptime();
  EngineContainer c(Engine::kDocker, {});
  REQUIRE_MESSAGE(c.start().exit_code == 0, "start: " << c.start().err << c.start().out);
  const ExecFn exec = ExecOf(c);
  RequireMemTotal(exec);
  CheckOwnClock(exec, t0);
  CheckPs(exec);
  RunResult top = c.Cli({"top", c.id()});
  INFO("docker top: " << top.out << top.err);
  CHECK(top.exit_code == 0);
  CHECK(top.out.find("sleep 100000") != std::string::npos);

  // stop then start, and restart: a new init, a new clock from zero.
  REQUIRE(c.Cli({"stop", "-t", "1", c.id()}).exit_code == 0);
  CHECK(c.Cli({"inspect", "-f", "{{.State.Running}}", c.id()}).out == "false\n");
  t0 = HostUptime();
  REQUIRE(c.Cli({"start", c.id()}).exit_code == 0);
  RequireMemTotal(exec);
  CheckOwnClock(exec, t0);
  std::this_thread::sleep_for(2s);
  t0 = HostUptime();
  REQUIRE(c.Cli({"restart", "-t", "1", c.id()}).exit_code == 0);
  CheckOwnClock(exec, t0);
  const double restarted_at = t0;

  // dockerd restarted (live restore): the container runs on, its clock too.
  const double before_restart = ReadClock(exec).uptime;
  RunResult restarted = c.RestartDaemon();
  REQUIRE_MESSAGE(restarted.exit_code == 0, restarted.err);
  CHECK(c.Cli({"inspect", "-f", "{{.State.Running}}", c.id()}).out == "true\n");
  const Clock after = ReadClock(exec);
  CHECK(after.uptime >= before_restart);
  CheckOwnClock(exec, restarted_at);
  CHECK(c.Cli({"top", c.id()}).exit_code == 0);

  // One that exits by itself, and one the OOM killer ends: their exit
  // codes and states, then removed.
  const std::vector<std::string> run = {"run", "--runtime", "prochook", "--network", "none", "-v", "/usr:/usr:ro"};
  auto with = [&](std::vector<std::string> args) {
    std::vector<std::string> all = run;
    all.insert(all.end(), args.begin(), args.end());
    return c.Cli(all);
  };
  const std::string exits = c.id().substr(0, 12) + "-exits";
  t0 = HostUptime();
  RunResult self = with({"--name", exits, "prochook-e2e", "sh", "-c", "cut -d' ' -f1 /proc/uptime; exit 3"});
  INFO("exits by itself: " << self.out << self.err);
  CHECK(self.exit_code == 3);
  CHECK(std::atof(self.out.c_str()) < HostUptime() - t0 + 1);
  CHECK(c.Cli({"rm", exits}).exit_code == 0);
  const std::string oom = c.id().substr(0, 12) + "-oom";
  RunResult killed = with({"--name", oom, "--memory", "32m", "--memory-swap", "32m", "prochook-e2e", "sh", "-c",
                           "x=$(head -c 200000000 /dev/zero | tr '\\0' x); echo survived"});
  INFO("OOM: " << killed.out << killed.err);
  CHECK(killed.exit_code == 137);
  CHECK(c.Cli({"inspect", "-f", "{{.State.OOMKilled}}", oom}).out == "true\n");
  CHECK(c.Cli({"rm", oom}).exit_code == 0);

  const std::string dir = StateDirFor(c.id());
  c.Remove();
  CHECK(WaitFor(10s, [&] { return !fs::exists(dir); }));
}

TEST_CASE("timens: containerd (ctr): task exec, ls, containerd restarted, kill") {
  if (SkipUnlessReady(EngineTools(Engine::kContainerd))) return;
  const double t0 = HostUptime();
  EngineContainer c(Engine::kContainerd, {});
  REQUIRE_MESSAGE(c.start().exit_code == 0, "start: " << c.start().err << c.start().out);
  const ExecFn exec = ExecOf(c);
  RequireMemTotal(exec);
  CheckOwnClock(exec, t0);
  CheckPs(exec);
  auto status = [&] {
    RunResult ls = c.Cli({"task", "ls"});
    std::istringstream in(ls.out);
    std::string line;
    while (std::getline(in, line)) {
      if (line.compare(0, c.id().size() + 1, c.id() + " ") == 0) return line.substr(line.rfind(' ') + 1);
    }
    return std::string("absent");
  };
  CHECK(status() == "RUNNING");
  RunResult restarted = c.RestartDaemon();
  REQUIRE_MESSAGE(restarted.exit_code == 0, restarted.err);
  CHECK(status() == "RUNNING");
  CheckOwnClock(exec, t0);
  REQUIRE(c.Cli({"task", "kill", "-s", "SIGKILL", c.id()}).exit_code == 0);
  CHECK(WaitFor(10s, [&] { return status() == "STOPPED"; }));
}

TEST_CASE("timens: podman through the wrapper: exec, ps, stop, start") {
  if (SkipUnlessReady(EngineTools(Engine::kPodmanWrapper))) return;
  double t0 = HostUptime();
  EngineContainer c(Engine::kPodmanWrapper, {});
  REQUIRE_MESSAGE(c.start().exit_code == 0, "start: " << c.start().err << c.start().out);
  const ExecFn exec = ExecOf(c);
  RequireMemTotal(exec);
  CheckOwnClock(exec, t0);
  CheckPs(exec);
  RunResult ps = c.Cli({"ps", "--format", "{{.Status}}", "--filter", "id=" + c.id()});
  CHECK(ps.out.compare(0, 2, "Up") == 0);
  REQUIRE(c.Cli({"stop", "-t", "1", c.id()}).exit_code == 0);
  t0 = HostUptime();
  REQUIRE(c.Cli({"start", c.id()}).exit_code == 0);
  RequireMemTotal(exec);
  CheckOwnClock(exec, t0);
}

TEST_CASE("timens: prochook run in a container's clock (as its hooks are) keeps every other container") {
  if (SkipUnlessReady()) return;
  WrapperFixture fx;
  Container a({});  // hook mode, the host's clock
  REQUIRE(a.Start().exit_code == 0);
  RequireServed(a);
  const int renderer = RendererPid(a);
  // a's processes start before b's clock's zero (whole seconds).
  std::this_thread::sleep_for(2s);
  Container b(fx.Options());
  REQUIRE(b.Start().exit_code == 0);
  RequireServed(b);
  const std::string in_b = std::to_string(b.InitPid());
  RunResult repair = Run({"nsenter", "-t", in_b, "-T", ProchookBinary(), "repair"});
  INFO("repair in b's clock: " << repair.out << repair.err);
  CHECK(repair.exit_code == 0);
  RunResult ps = Run({"nsenter", "-t", in_b, "-T", ProchookBinary(), "ps"});
  INFO("ps in b's clock: " << ps.out);
  std::istringstream lines(ps.out);
  int serving = 0;
  for (std::string line; std::getline(lines, line);) {
    if ((line.rfind(a.id() + " ", 0) == 0 || line.rfind(b.id() + " ", 0) == 0) &&
        line.find(" serving ") != std::string::npos) {
      ++serving;
    }
  }
  CHECK(serving == 2);
  CHECK(fs::exists(a.state_dir() + "/state.json"));
  CHECK(RendererPid(a) == renderer);
  CHECK(Alive(renderer));
  RequireServed(a);
}
