// Freshness of the first read after a quiet spell, in real runc containers
// with prochook's defaults (refresh every 1 s, idle after 10 s unread): the
// read gate (renderer/read_gate.h) makes that read wait for a refresh, so
// `cat`, `free` and `free -s` (a kept-open descriptor) see what happened
// just before it; and a renderer that is stopped, or a gate or renderer
// that is killed, never holds a reader for more than kGateWaitMs.
#include <doctest/doctest.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/fanotify.h>
#include <unistd.h>

#include <filesystem>
#include <sstream>
#include <thread>

#include "tests/e2e/harness.h"

namespace fs = std::filesystem;
using namespace prochook::e2e;
using namespace std::chrono_literals;

namespace {

constexpr uint64_t kMiB = 1024;  // in kB, as meminfo counts
// What 64 MiB written must take off MemFree: cgroup v2 on 6.1 charged
// 60960 kB of it by the time of the read (seen in the guest), v1 all of it.
constexpr uint64_t kSeen = 56 * kMiB;
// How old a rendered file may be when read: one interval (1 s), plus what
// a refresh itself takes, which under software emulation (the VM lane) is
// up to a few hundred ms (1.15 s seen there).
constexpr double kMaxAge = 1.5;
// Past the idle period (10 s by default) with margin: the files are gated.
constexpr auto kQuiet = 15s;

uint64_t MemFree(const std::string& meminfo) { return MeminfoFields(meminfo).at("MemFree"); }

// Writes 64 MiB into the container's /tmp (a tmpfs charged to its memory
// cgroup).
void Write64MiB(const Container& c) {
  REQUIRE(c.Exec({"dd", "if=/dev/zero", "of=/tmp/fill", "bs=1M", "count=64"}).exit_code == 0);
}

// The read gate of a renderer: its child named prochook-gate, or 0.
int GatePid(int renderer) {
  std::error_code ec;
  for (const auto& p : fs::directory_iterator("/proc", ec)) {
    if (ReadText((p.path() / "comm").string()) != "prochook-gate\n") continue;
    std::istringstream stat(ReadText((p.path() / "stat").string()));
    std::string pid, comm, state;
    int ppid = 0;
    stat >> pid >> comm >> state >> ppid;
    if (ppid == renderer) return std::stoi(pid);
  }
  return 0;
}

// The age of a /proc/stat text rendered by prochook, in seconds: its cpu0
// line sums to the ticks since the host booted when it was rendered (idle
// is what the container's CPU did not use of the elapsed time), against
// the host's uptime read just before.
double StatAge(const std::string& stat, double uptime_before) {
  std::istringstream in(stat);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("cpu0 ", 0) != 0) continue;
    std::istringstream fields(line.substr(5));
    uint64_t sum = 0;
    for (uint64_t v; fields >> v;) sum += v;
    return uptime_before - static_cast<double>(sum) / 100.0;
  }
  FAIL("no cpu0 line in: " << stat);
  return 0;
}

double HostUptime() { return std::stod(ReadText("/proc/uptime")); }

// Reads a served file through its store path (the same inode the container
// reads, so gated alike) and returns how long the read took.
std::chrono::milliseconds TimedRead(const std::string& path, std::string* text) {
  const auto t0 = std::chrono::steady_clock::now();
  *text = ReadText(path);
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0);
}

// The fdinfo of the read gate's fanotify group ("fanotify ino:... mask:..."
// per marked file), or "" if there is no gate.
std::string GateMarks(int renderer) {
  const int gate = GatePid(renderer);
  if (gate == 0) return "";
  std::error_code ec;
  for (const auto& fd : fs::directory_iterator("/proc/" + std::to_string(gate) + "/fdinfo", ec)) {
    std::string text = ReadText(fd.path().string());
    if (text.find("fanotify ino:") != std::string::npos) return text;
  }
  return "";
}

// Whether the gate holds the next open: a mark asks for FAN_OPEN_PERM
// (between spells the marks ask for FAN_OPEN_EXEC_PERM only).
bool Armed(int renderer) {
  std::istringstream in(GateMarks(renderer));
  for (std::string line; std::getline(in, line);) {
    const size_t at = line.find(" mask:");
    if (line.rfind("fanotify ino:", 0) == 0 && at != std::string::npos &&
        (std::stoull(line.substr(at + 6), nullptr, 16) & FAN_OPEN_PERM) != 0) {
      return true;
    }
  }
  return false;
}

// Waits until the container's read gate has marked its files (fdinfo of
// its fanotify group lists them); returns the renderer's pid. A descriptor
// opened before that is not gated on Linux 6.14+ (README).
int GatedRenderer(const Container& c) {
  const int renderer = RendererPid(c);
  REQUIRE(renderer > 0);
  const auto marked = [&] { return GateMarks(renderer).find("fanotify ino:") != std::string::npos; };
  REQUIRE_MESSAGE(WaitFor(5s, marked), "no read gate with marks for renderer " << renderer);
  return renderer;
}

// The container's renderer, once it has gone idle with its files gated.
int IdleRenderer(const Container& c) {
  const int renderer = GatedRenderer(c);
  std::this_thread::sleep_for(kQuiet);
  return renderer;
}

}  // namespace

// The "free" column of the Mem: line of each report in `free -k` output.
std::vector<uint64_t> FreeColumn(const std::string& out) {
  std::vector<uint64_t> free;
  std::istringstream in(out);
  for (std::string line; std::getline(in, line);) {
    std::istringstream words(line);
    std::string label;
    uint64_t total = 0, used = 0, f = 0;
    if (words >> label >> total >> used >> f && label == "Mem:") free.push_back(f);
  }
  return free;
}

// Continues a stopped process when the test ends, whatever happens.
struct Continue {
  int pid;
  ~Continue() { ::kill(pid, SIGCONT); }
};

TEST_CASE("freshness: after 15 s unread, free sees 64 MiB written just before it, and /proc/stat is current") {
  if (SkipUnlessReady({"free", "dd"})) return;
  // Debug logging: the renderer log says when the files were gated and
  // refreshed for a read, should a check below fail.
  Container c({.memory_limit = 512ull << 20,
               .hook_command = {"/usr/bin/env", "env", "PROCHOOK_LOG_LEVEL=debug", ProchookBinary(), "hook"}});
  REQUIRE(c.Start().exit_code == 0);
  RequireServed(c);
  const std::vector<uint64_t> before = FreeColumn(c.Exec({"free", "-k"}).out);
  REQUIRE(before.size() == 1);
  IdleRenderer(c);
  Write64MiB(c);
  const RunResult free = c.Exec({"free", "-k"});
  const std::vector<uint64_t> after = FreeColumn(free.out);
  REQUIRE_MESSAGE(after.size() == 1, free.exit_code << ": " << free.out << free.err);
  CHECK_MESSAGE(before[0] - after[0] >= kSeen, "free: " << before[0] << " kB, then " << after[0] << " kB");

  // /proc/stat's age when read after another quiet spell: at most one
  // interval and a refresh (gated, it is rendered after the read began;
  // without the gate it is up to the idle period, 10 s, old).
  std::this_thread::sleep_for(kQuiet);
  const double uptime = HostUptime();
  const std::string stat = c.Exec({"cat", "/proc/stat"}).out;
  const double age = StatAge(stat, uptime);
  CHECK_MESSAGE(age < kMaxAge, "/proc/stat was " << age << " s old at " << uptime << ":\n" << stat
                << ReadText(c.state_dir() + "/renderer.log"));
}

TEST_CASE("freshness: the files are gated within an interval of the idle period after the last read") {
  if (SkipUnlessReady()) return;
  Container c({});
  REQUIRE(c.Start().exit_code == 0);
  RequireServed(c);
  const int renderer = GatedRenderer(c);
  REQUIRE(c.Exec({"cat", "/proc/meminfo"}).exit_code == 0);
  const auto last_read = std::chrono::steady_clock::now();
  REQUIRE(!Armed(renderer));  // read: not gated
  // Idle period (10 s) plus one interval (1 s) plus a second of slack for
  // the guest's emulation. Reads in between get content at most an
  // interval old; a renderer that went to sleep unarmed would leave them
  // an idle period old.
  REQUIRE_MESSAGE(WaitFor(15s, [&] { return Armed(renderer); }), GateMarks(renderer));
  const double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - last_read).count();
  CHECK_MESSAGE(took < 12.0, "gated " << took << " s after the last read\n"
                << ReadText(c.state_dir() + "/renderer.log"));
}

TEST_CASE("freshness: free -s 20 keeps /proc/meminfo open across the quiet spell; its second report sees 64 MiB written meanwhile") {
  if (SkipUnlessReady({"free", "python3"})) return;
  Container c({.memory_limit = 512ull << 20});
  REQUIRE(c.Start().exit_code == 0);
  RequireServed(c);
  GatedRenderer(c);
  // One exec: free's first report; 64 MiB written by a process started
  // with free, 13 s after its own start (its last read of a served file,
  // so the files have been gated for 2 s or more); free's second report at
  // 20 s through its kept-open descriptor. The margins leave a few seconds
  // for python's start and its write under software emulation (the VM
  // lane). Nothing else starts meanwhile: a new process may read a served
  // file (glibc reads /sys/devices/system/cpu/online), which would refresh
  // the files for free too.
  const RunResult free = c.Exec(
      {"sh", "-c",
       "free -k -s 20 -c 2 & python3 -c 'import time; time.sleep(13); open(\"/tmp/fill\", \"wb\").write(bytes(64 << 20))'; wait"});
  REQUIRE(free.exit_code == 0);
  const std::vector<uint64_t> reports = FreeColumn(free.out);
  REQUIRE(reports.size() == 2);
  CHECK_MESSAGE(reports[0] - reports[1] >= kSeen, free.out);
}

TEST_CASE("freshness: a stopped renderer holds a first read for the gate's bound only; a killed gate or renderer holds none") {
  if (SkipUnlessReady()) return;
  Container c({});
  REQUIRE(c.Start().exit_code == 0);
  RequireServed(c);
  const std::string meminfo = c.state_dir() + "/meminfo";
  int renderer = IdleRenderer(c);
  std::string text;
  {
    Continue guard{renderer};
    REQUIRE(::kill(renderer, SIGSTOP) == 0);
    const auto held = TimedRead(meminfo, &text);
    CHECK(text.rfind("MemTotal:", 0) == 0);
    CHECK_MESSAGE(held >= 90ms, "the read was not gated (" << held.count() << " ms)");
    CHECK_MESSAGE(held < 2s, "held " << held.count() << " ms");
    // The marks went with the first read: the next is not held.
    CHECK(TimedRead(meminfo, &text) < 90ms);
    CHECK(c.Exec({"cat", "/proc/meminfo"}).out.rfind("MemTotal:", 0) == 0);
  }
  CHECK(WaitFor(5s, [&] {
    return ReadText(c.state_dir() + "/renderer.log").find("no refresh within 100 ms") != std::string::npos;
  }));

  // The gate killed: the renderer goes on without it.
  const int gate = GatePid(renderer);
  REQUIRE(gate > 0);
  REQUIRE(::kill(gate, SIGKILL) == 0);
  CHECK(WaitFor(15s, [&] {
    return ReadText(c.state_dir() + "/renderer.log").find("the read gate is gone") != std::string::npos;
  }));
  CHECK(Alive(renderer));
  std::this_thread::sleep_for(kQuiet);
  CHECK(TimedRead(meminfo, &text) < 90ms);
  CHECK(text.rfind("MemTotal:", 0) == 0);

  // A renderer killed while its files are gated (stopped first, so that it
  // cannot answer): its gate goes with it and no read is held.
  Container d({});
  REQUIRE(d.Start().exit_code == 0);
  RequireServed(d);
  renderer = IdleRenderer(d);
  const int gate_d = GatePid(renderer);
  REQUIRE(gate_d > 0);
  REQUIRE(::kill(renderer, SIGSTOP) == 0);
  REQUIRE(::kill(renderer, SIGKILL) == 0);
  CHECK(WaitFor(2s, [&] { return !Alive(gate_d); }));
  CHECK(TimedRead(d.state_dir() + "/meminfo", &text) < 90ms);
  CHECK(text.rfind("MemTotal:", 0) == 0);
}
