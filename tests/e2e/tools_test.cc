// The full file set, as real tools inside a real runc container read it:
// procps, sysstat, htop, python3 + psutil, busybox.
#include <doctest/doctest.h>

#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <functional>
#include <regex>
#include <sstream>
#include <thread>

#include "tests/e2e/harness.h"

namespace fs = std::filesystem;
using namespace prochook::e2e;
using namespace std::chrono_literals;

namespace {

int HostCpus() { return static_cast<int>(sysconf(_SC_NPROCESSORS_ONLN)); }

// Runs a command in the container and returns its stdout, failing the test
// (with stderr) when it exits non-zero.
std::string Out(const Container& c, const std::vector<std::string>& argv) {
  RunResult r = c.Exec(argv);
  INFO("command: " << argv[0] << " stderr: " << r.err);
  CHECK(r.exit_code == 0);
  return r.out;
}

int CountMatches(const std::string& text, const std::string& re) {
  std::regex r(re, std::regex::multiline);
  return static_cast<int>(std::distance(std::sregex_iterator(text.begin(), text.end(), r),
                                        std::sregex_iterator()));
}

// procps top, run so that a stray SIGURG cannot end it. runc 1.1 forwards
// the signals it receives to the process it execs, among them the SIGURG the
// Go runtime sends runc's own threads to preempt them (runc 1.2 stops that:
// "runc run/exec: ignore SIGURG"). top treats SIGURG as fatal: it exits 1
// with no message (CI saw it, once with its frame written twice). The shell
// between runc and top receives the signal instead and ignores it, as is
// its default.
std::vector<std::string> Top(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {"sh", "-c", "top \"$@\"; exit $?", "sh"};
  argv.insert(argv.end(), args.begin(), args.end());
  return argv;
}

// CPU time the container's cgroup has used, in ns, as the kernel accounts
// it: cpuacct.usage (v1), usage_usec of cpu.stat (v2).
double CgroupCpuNs(const Container& c) {
  if (!UnifiedCgroups()) return std::stod(ReadText(c.CgroupDir("cpuacct") + "/cpuacct.usage"));
  const std::string stat = ReadText(c.CgroupDir("cpu") + "/cpu.stat");
  std::smatch m;
  REQUIRE_MESSAGE(std::regex_search(stat, m, std::regex("(^|\\n)usage_usec ([0-9]+)")), stat);
  return std::stod(m[2]) * 1000;
}

double Python(const Container& c, const std::string& expr) {
  std::string out = Out(c, {"/usr/bin/python3", "-c", "import os, psutil; print(" + expr + ")"});
  return std::stod(out);
}

}  // namespace

TEST_CASE("tools: a quota of half a CPU shows one CPU everywhere, 256 MiB everywhere") {
  if (SkipUnlessReady()) return;
  REQUIRE_MESSAGE(HostCpus() >= 2, "the CPU view test needs a host with 2+ CPUs");
  Container c({.cpu_quota_us = 50000});
  RunResult start = c.Start();
  REQUIRE_MESSAGE(start.exit_code == 0, "runc run: " << start.err);

  // The four sources of the CPU count agree (sched_getaffinity cannot be
  // changed by files, so nproc still says the host's count).
  CHECK(CountMatches(Out(c, {"cat", "/proc/cpuinfo"}), "^processor\\s*: ") == 1);
  CHECK(Out(c, {"cat", "/proc/cpuinfo"}).find("processor\t: 0\n") != std::string::npos);
  CHECK(CountMatches(Out(c, {"cat", "/proc/stat"}), "^cpu[0-9]+ ") == 1);
  CHECK(Out(c, {"cat", "/sys/devices/system/cpu/online"}) == "0\n");
  CHECK(Out(c, {"cat", "/sys/devices/system/cpu/possible"}) == "0\n");
  CHECK(CountMatches(Out(c, {"ls", "-1", "/sys/devices/system/cpu"}), "^cpu[0-9]+$") == 1);
  // The kept per-CPU entries are the host's real ones.
  CHECK(Out(c, {"ls", "/sys/devices/system/cpu/cpu0/topology"}).find("core_id") !=
        std::string::npos);
  CHECK(Python(c, "os.cpu_count()") == 1);
  CHECK(Python(c, "psutil.cpu_count()") == 1);
  CHECK(Python(c, "len(psutil.cpu_times(percpu=True))") == 1);
  CHECK(Python(c, "psutil.virtual_memory().total") == 268435456);

  // The host's block devices, with the container's I/O counters.
  CHECK(CountMatches(Out(c, {"cat", "/proc/diskstats"}), "^\\s*[0-9]+\\s+[0-9]+ \\S+ ") ==
        CountMatches(ReadText("/proc/diskstats"), "^\\s*[0-9]+\\s+[0-9]+ \\S+ "));
  CHECK(Python(c, "len(psutil.disk_io_counters(perdisk=True))") >= 1);
  CHECK(Out(c, {"cat", "/sys/devices/system/cpu/offline"}) == "\n");

  // Node (libuv): CPUs from /proc/stat's cpuN lines, memory from meminfo.
  std::string node = Out(c, {"node", "-e", "const os = require('os'); console.log(os.cpus().length, os.totalmem())"});
  CHECK(node == "1 268435456\n");

  // procps
  std::string top = Out(c, Top({"-bn1"}));
  INFO("top -bn1:\n" << top);
  CHECK(top.find("MiB Mem :    256.0 total") != std::string::npos);
  std::string vmstat = Out(c, {"vmstat", "1", "2"});
  CHECK(CountMatches(vmstat, "^\\s*[0-9]+\\s+[0-9]+\\s+") == 2);
  // sysstat
  std::string mpstat = Out(c, {"mpstat", "-P", "ALL", "1", "1"});
  INFO("mpstat:\n" << mpstat);
  CHECK(mpstat.find("(1 CPU)") != std::string::npos);
  CHECK(CountMatches(mpstat, "^Average:\\s+[0-9]+\\s") == 1);
  std::string iostat = Out(c, {"iostat"});
  INFO("iostat:\n" << iostat);
  CHECK(iostat.find("(1 CPU)") != std::string::npos);
  CHECK(iostat.find("Device") != std::string::npos);
  // busybox reads /proc/meminfo for its top (its free uses sysinfo(2)).
  std::string bbtop = Out(c, {"busybox", "top", "-bn1"});
  INFO("busybox top:\n" << bbtop);
  CHECK(std::regex_search(bbtop, std::regex("Mem: [0-9]+K used, [0-9]+K free")));
  std::smatch m;
  REQUIRE(std::regex_search(bbtop, m, std::regex("Mem: ([0-9]+)K used, ([0-9]+)K free")));
  CHECK(std::stoull(m[1]) + std::stoull(m[2]) <= 262144);
}

TEST_CASE("tools: a busy loop shows as the one visible CPU's use; ps stays sane") {
  if (SkipUnlessReady()) return;
  REQUIRE_MESSAGE(HostCpus() >= 2, "needs a host with 2+ CPUs");
  // A quota of one CPU: one visible CPU, and the loop may run on any host
  // CPU, so other load on the machine takes little from it.
  Container c({.cpu_quota_us = 100000, .annotations = {{"io.prochook.interval", "250ms"}}});
  RunResult start = c.Start();
  REQUIRE_MESSAGE(start.exit_code == 0, "runc run: " << start.err);
  CHECK(Out(c, {"cat", "/sys/devices/system/cpu/online"}) == "0\n");
  REQUIRE(c.Exec({"sh", "-c", "sh -c 'while :; do :; done' </dev/null >/dev/null 2>&1 &"})
              .exit_code == 0);
  REQUIRE(WaitFor(2s, [&] { return Out(c, {"ps", "-eo", "args"}).find("sh -c while") != std::string::npos; }));
  std::this_thread::sleep_for(6s);  // one loadavg period (5 s) and then some

  // What the container really used over a window, as a % of one CPU, from
  // its cgroup's own accounting (the kernel, not prochook).
  auto measure = [&](const std::function<std::string()>& tool, std::string* out) {
    const double u0 = CgroupCpuNs(c);
    const auto t0 = std::chrono::steady_clock::now();
    *out = tool();
    const double u1 = CgroupCpuNs(c);
    const double ns = std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - t0).count();
    return 100.0 * (u1 - u0) / ns;
  };

  std::string mpstat;
  const double used_mpstat = measure([&] { return Out(c, {"mpstat", "-P", "ALL", "1", "1"}); }, &mpstat);
  INFO("mpstat:\n" << mpstat << "\nthe cgroup used " << used_mpstat << "% of a CPU meanwhile");
  REQUIRE_MESSAGE(used_mpstat > 60, "the machine is too busy for the loop to run");
  std::smatch m;
  REQUIRE(std::regex_search(mpstat, m, std::regex("Average:\\s+0\\s+([0-9.]+)\\s+[0-9.]+\\s+([0-9.]+)")));
  // CPU 0's %usr + %sys is the container's use of its one CPU, not a
  // fraction of the host's two.
  CHECK(std::abs(std::stod(m[1]) + std::stod(m[2]) - used_mpstat) < 15.0);

  std::string top;
  const double used_top = measure([&] { return Out(c, Top({"-bn2", "-d", "1"})); }, &top);
  INFO("top:\n" << top << "\nthe cgroup used " << used_top << "% of a CPU meanwhile");
  // The second iteration's CPU line: idle is what the container left unused.
  std::vector<double> idles;
  std::regex idle_re("([0-9.]+) id,");
  for (auto it = std::sregex_iterator(top.begin(), top.end(), idle_re); it != std::sregex_iterator(); ++it) {
    idles.push_back(std::stod((*it)[1]));
  }
  REQUIRE(idles.size() == 2);
  CHECK(std::abs(100.0 - idles[1] - used_top) < 15.0);

  // ps: START is today, ELAPSED small, %CPU high (uptime is the host's by
  // default, so process start times stay consistent).
  std::string ps = Out(c, {"ps", "-eo", "etimes,pcpu,lstart,args"});
  INFO("ps:\n" << ps);
  REQUIRE(std::regex_search(ps, m, std::regex("\\n\\s*([0-9]+)\\s+([0-9.]+)\\s+(.{24}) sh -c while")));
  CHECK(std::stoi(m[1]) < 60);
  CHECK(std::stod(m[2]) > 50.0);
  // LSTART is now, give or take the test's run time.
  std::string lstart = Run({"date", "-d", m[3].str(), "+%s"}).out;
  CHECK(std::abs(std::stol(lstart) - static_cast<long>(time(nullptr))) < 60);
  // Every process in the container, ps itself included, is a few seconds
  // old: none shows a negative (wrapped) age.
  const std::regex age("\\n\\s*([0-9]+) ");
  for (auto it = std::sregex_iterator(ps.begin(), ps.end(), age);
       it != std::sregex_iterator(); ++it) {
    CHECK(std::stoll((*it)[1]) < 60);
  }

  std::string loadavg = Out(c, {"cat", "/proc/loadavg"});
  INFO("loadavg: " << loadavg);
  REQUIRE(std::regex_search(loadavg, m, std::regex("^([0-9.]+) [0-9.]+ [0-9.]+ ([0-9]+)/([0-9]+) [0-9]+\\n$")));
  CHECK(std::stod(m[1]) > 0.05);  // the loop has been runnable for a period
  CHECK(std::stoi(m[3]) < 20);    // the container's tasks, not the host's
  CHECK(Python(c, "psutil.boot_time()") > 0);
  std::string uptime = Out(c, {"uptime"});
  CHECK(uptime.find("load average") != std::string::npos);
}

TEST_CASE("tools: htop shows one CPU meter and the container's memory") {
  if (SkipUnlessReady()) return;
  Container c({.cpu_quota_us = 50000});
  RunResult start = c.Start();
  REQUIRE_MESSAGE(start.exit_code == 0, "runc run: " << start.err);
  // tmux gives htop a terminal; capture its screen.
  const std::string session = "prochook-" + c.id();
  std::vector<std::string> exec = c.Runc({"exec", "-t", c.id(), "htop"});
  std::string cmd;
  for (const auto& a : exec) cmd += a + " ";
  RunResult tmux = Run({"tmux", "new-session", "-d", "-s", session, "-x", "160", "-y", "40", cmd});
  REQUIRE_MESSAGE(tmux.exit_code == 0, tmux.err);
  std::string screen;
  WaitFor(10s, [&] {
    screen = Run({"tmux", "capture-pane", "-p", "-t", session}).out;
    return screen.find("Mem[") != std::string::npos;
  });
  Run({"tmux", "kill-session", "-t", session});
  INFO("htop screen:\n" << screen);
  CHECK(screen.find("Mem[") != std::string::npos);
  CHECK(std::regex_search(screen, std::regex("/256M\\]")));
  CHECK(CountMatches(screen, "(CPU|\\b[0-9]+)\\[") == 1);
  CHECK(CountMatches(screen, "\\b1\\[") == 0);
}

TEST_CASE("tools: io.prochook.uptime=container shows the container's age") {
  if (SkipUnlessReady()) return;
  Container c({.annotations = {{"io.prochook.uptime", "container"}}});
  const time_t before = time(nullptr);
  RunResult start = c.Start();
  REQUIRE_MESSAGE(start.exit_code == 0, "runc run: " << start.err);
  std::this_thread::sleep_for(2s);
  double up = std::stod(Out(c, {"cat", "/proc/uptime"}));
  CHECK(up >= 0.5);
  CHECK(up < 30);
  // psutil.boot_time() is /proc/stat's btime: the container's start.
  double boot = Python(c, "psutil.boot_time()");
  CHECK(boot >= before - 2);
  CHECK(boot <= time(nullptr));
  CHECK(Out(c, {"uptime"}).find("up 0 min") != std::string::npos);
}
