// Faults around a running container: its renderer dies, and comes back
// through `prochook repair` or the next hook invocation, without the
// container ever seeing an error or its mounts changing.
#include <doctest/doctest.h>
#include <signal.h>
#include <sys/wait.h>

#include <fcntl.h>
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <memory>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "tests/e2e/harness.h"

namespace fs = std::filesystem;
using namespace prochook::e2e;
using namespace std::chrono_literals;

namespace {

// Kills the renderer and waits until it is gone (it is not our child: the
// hook double-forked it, so poll).
void KillRenderer(int pid) {
  REQUIRE(Alive(pid));
  ::kill(pid, SIGKILL);
  REQUIRE(WaitFor(5s, [&] { return !Alive(pid); }));
}

// /proc/stat in the container changes at every refresh (idle time grows).
// The host's changes too: call it only on a container known to be served.
bool Refreshing(const Container& c) {
  const std::string a = c.Exec({"cat", "/proc/stat"}).out;
  std::this_thread::sleep_for(400ms);
  const std::string b = c.Exec({"cat", "/proc/stat"}).out;
  return !a.empty() && !b.empty() && a != b;
}

std::string InodeOf(const Container& c, const std::string& path) {
  return c.Exec({"stat", "-c", "%d:%i", path}).out;
}

}  // namespace

TEST_CASE("faults: a killed renderer leaves the last content; repair restarts it in place") {
  if (SkipUnlessReady()) return;
  Container c({.annotations = {{"io.prochook.interval", "100ms"}}});
  RunResult start = c.Start();
  REQUIRE_MESSAGE(start.exit_code == 0, "runc run: " << start.err);
  RequireServed(c);
  REQUIRE(Refreshing(c));
  const std::string inode = InodeOf(c, "/proc/meminfo");
  const int first = RendererPid(c);
  KillRenderer(first);

  // The container reads the last good content: no error, no change.
  RunResult mem = c.Exec({"head", "-n", "1", "/proc/meminfo"});
  CHECK(mem.exit_code == 0);
  CHECK(mem.out == "MemTotal:         262144 kB\n");
  CHECK_FALSE(Refreshing(c));
  CHECK(fs::exists(c.state_dir() + "/state.json"));

  RunResult repair = Run({ProchookBinary(), "repair"});
  INFO("repair: " << repair.out << repair.err);
  CHECK(repair.exit_code == 0);
  CHECK(repair.out.find(c.state_dir_name() + ": renderer restarted") != std::string::npos);
  const int second = RendererPid(c);
  CHECK(second != first);
  CHECK(Alive(second));
  CHECK(Refreshing(c));
  CHECK(InodeOf(c, "/proc/meminfo") == inode);  // the mounts were not touched
  RequireServed(c);
  // Nothing more to do.
  RunResult again = Run({ProchookBinary(), "repair"});
  CHECK(again.out.find(c.id()) == std::string::npos);
}

TEST_CASE("faults: a hung renderer leaves the last content; repair replaces it once overdue") {
  if (SkipUnlessReady()) return;
  Container c({.annotations = {{"io.prochook.interval", "100ms"}, {"io.prochook.idle", "off"}}});
  REQUIRE(c.Start().exit_code == 0);
  RequireServed(c);
  REQUIRE(Refreshing(c));
  const int hung = RendererPid(c);
  ::kill(hung, SIGSTOP);  // hangs: alive, never refreshing again
  const auto stopped = std::chrono::steady_clock::now();
  CHECK(c.Exec({"head", "-n", "1", "/proc/meminfo"}).out == "MemTotal:         262144 kB\n");
  CHECK_FALSE(Refreshing(c));
  auto state = [&] {
    auto j = nlohmann::json::parse(Run({ProchookBinary(), "ps", "--json"}).out);
    for (const auto& e : j["containers"]) {
      if (e["id"] == c.id()) return e["state"].get<std::string>();
    }
    return std::string("missing");
  };
  CHECK(WaitFor(3s, [&] { return state() == "stale"; }));
  // Late, not yet overdue (3 x 0.1 s + 5 s without a refresh): left alone.
  CHECK(Run({ProchookBinary(), "repair"}).out.find(c.id()) == std::string::npos);
  CHECK(Alive(hung));
  std::this_thread::sleep_until(stopped + 6s);
  RunResult repair = Run({ProchookBinary(), "repair"});
  INFO("repair: " << repair.out << repair.err);
  CHECK(repair.out.find(c.state_dir_name() + ": renderer restarted") != std::string::npos);
  CHECK(WaitFor(5s, [&] { return !Alive(hung); }));
  CHECK(Alive(RendererPid(c)));
  CHECK(RendererPid(c) != hung);
  CHECK(Refreshing(c));
  CHECK(state() == "serving");
}

TEST_CASE("faults: the next containers' hooks repair a dead renderer within the bound") {
  if (SkipUnlessReady()) return;
  Container a({.annotations = {{"io.prochook.interval", "100ms"}}});
  REQUIRE(a.Start().exit_code == 0);
  RequireServed(a);
  const int first = RendererPid(a);
  KillRenderer(first);
  CHECK_FALSE(Refreshing(a));

  // A start's hook looks at two state directories in turn (hook/repair.h):
  // with D of them, a is reached within ceil(D / 2) + 1 starts; each start
  // adds one, so D + 2 starts are enough.
  const auto dirs = std::distance(fs::directory_iterator(fs::path(a.state_dir()).parent_path()),
                                  fs::directory_iterator());
  std::vector<std::unique_ptr<Container>> next;
  for (long i = 0; i < static_cast<long>(dirs) + 2 && RendererPid(a) == first; ++i) {
    next.push_back(std::make_unique<Container>(Container::Options{}));
    REQUIRE(next.back()->Start().exit_code == 0);
  }
  INFO(next.size() << " starts, " << dirs << " entries in the run directory");
  CHECK(RendererPid(a) != first);
  CHECK(Alive(RendererPid(a)));
  CHECK(Refreshing(a));
  RequireServed(a);
}

TEST_CASE("faults: a container that exited while its renderer was dead leaves nothing behind") {
  if (SkipUnlessReady()) return;
  Container a({});
  REQUIRE(a.Start().exit_code == 0);
  RequireServed(a);
  const std::string dir = a.state_dir();
  KillRenderer(RendererPid(a));
  // Stop the container without the poststop hook running: kill its init.
  const int init = a.InitPid();
  REQUIRE(init > 0);
  ::kill(init, SIGKILL);
  REQUIRE(WaitFor(5s, [&] { return !Alive(init); }));
  REQUIRE(fs::exists(dir));
  RunResult repair = Run({ProchookBinary(), "repair"});
  CHECK(repair.out.find(a.state_dir_name() + ": container gone, state removed") != std::string::npos);
  CHECK_FALSE(fs::exists(dir));
  CHECK(RenderersOf(dir) == 0);
}

TEST_CASE("faults: prochook ps reports serving, then renderer-dead after SIGTERM (an upgrade), then serving") {
  if (SkipUnlessReady()) return;
  Container c({.annotations = {{"io.prochook.interval", "200ms"}}});
  REQUIRE(c.Start().exit_code == 0);
  auto state_of = [&] {
    RunResult ps = Run({ProchookBinary(), "ps", "--json"});
    REQUIRE(ps.exit_code == 0);
    auto j = nlohmann::json::parse(ps.out);
    CHECK(j["store"] == "xfs (tear-free)");
    for (const auto& e : j["containers"]) {
      if (e["id"] == c.id()) return e;
    }
    FAIL("prochook ps does not list " << c.id() << ":\n" << ps.out);
    return nlohmann::json();
  };
  std::this_thread::sleep_for(300ms);
  auto serving = state_of();
  CHECK(serving["state"] == "serving");
  CHECK(serving["renderer_pid"] == RendererPid(c));
  CHECK(serving["init_pid"] == c.InitPid());
  CHECK(serving["interval_ms"] == 200);
  CHECK(serving["refreshed_ago_s"].get<double>() < 1.0);
  RunResult table = Run({ProchookBinary(), "ps"});
  CHECK(table.out.find(c.id()) != std::string::npos);

  // SIGTERM (what an upgrade does): the renderer leaves its state for the
  // next one, the container keeps its files.
  const int old = RendererPid(c);
  ::kill(old, SIGTERM);
  REQUIRE(WaitFor(5s, [&] { return !Alive(old); }));
  CHECK(state_of()["state"] == "renderer-dead");
  CHECK(c.Exec({"head", "-n", "1", "/proc/meminfo"}).out == "MemTotal:         262144 kB\n");
  CHECK(Run({ProchookBinary(), "repair"}).exit_code == 0);
  CHECK(state_of()["state"] == "serving");
}

TEST_CASE("least privilege: the renderer runs without capabilities under seccomp, and denies nothing it needs") {
  if (SkipUnlessReady()) return;
  Container c({.annotations = {{"io.prochook.interval", "100ms"}}});
  REQUIRE(c.Start().exit_code == 0);
  RequireServed(c);
  REQUIRE(Refreshing(c));  // several refreshes of every file, sandboxed
  const std::string status = ReadText("/proc/" + std::to_string(RendererPid(c)) + "/status");
  INFO("renderer status:\n" << status);
  CHECK(status.find("CapEff:\t0000000000000000\n") != std::string::npos);
  CHECK(status.find("CapBnd:\t0000000000000000\n") != std::string::npos);
  CHECK(status.find("NoNewPrivs:\t1\n") != std::string::npos);
  CHECK(status.find("Seccomp:\t2\n") != std::string::npos);
  // Its open files: its own state dir and store, its inputs in procfs,
  // sysfs and the cgroups, read-only, a pidfd of the init and a signalfd.
  // Nothing of the container's filesystem, nothing writable outside its dir.
  const std::string fds = "/proc/" + std::to_string(RendererPid(c)) + "/fd";
  int inputs = 0;
  for (const auto& e : fs::directory_iterator(fds)) {
    const std::string target = fs::read_symlink(e.path()).string();
    CAPTURE(target);
    // pipe: the two pipes to its read gate (renderer/read_gate.h).
    const bool own = target.rfind(c.state_dir(), 0) == 0 || target == "/dev/null" ||
                     target.rfind("anon_inode:", 0) == 0 || target.rfind("pipe:", 0) == 0;
    const bool input = target.rfind("/proc/", 0) == 0 || target.rfind("/sys/", 0) == 0;
    CHECK((own || input));
    if (input) {
      ++inputs;
      const std::string info = ReadText("/proc/" + std::to_string(RendererPid(c)) + "/fdinfo/" +
                                        e.path().filename().string());
      const size_t flags = info.find("flags:\t");
      REQUIRE(flags != std::string::npos);
      CHECK((std::stoul(info.substr(flags + 7), nullptr, 8) & O_ACCMODE) == O_RDONLY);
    }
  }
  CHECK(inputs > 10);  // kept open between refreshes
  const std::string log = ReadText(c.state_dir() + "/renderer.log");
  INFO("renderer log:\n" << log);
  CHECK(log.find("denied syscall") == std::string::npos);
  // Landlocked: this kernel has Landlock, so the renderer is not marked
  // unsandboxed (tests/sandbox_test.cc shows what Landlock refuses it).
  CHECK(log.find("unsandboxed") == std::string::npos);
  CHECK_FALSE(fs::exists(c.state_dir() + "/unsandboxed"));
  // The files are read-only and inert inside the container.
  const std::string mounts = ReadText("/proc/" + std::to_string(c.InitPid()) + "/mountinfo");
  const size_t line = mounts.find(" /proc/meminfo ");
  REQUIRE(line != std::string::npos);
  const std::string opts = mounts.substr(line, mounts.find('\n', line) - line);
  CHECK(opts.find("ro,nosuid,nodev,noexec") != std::string::npos);
}

namespace {

// Once the container was stopped: repair, and check that nothing of it is
// left: no state dir, no renderer. (Its mounts went with its mount
// namespace; prochook never mounts on the host.)
void CheckNothingLeft(const std::string& dir) {
  // An abandoned state dir counts as such once it is old: age it.
  if (fs::exists(dir)) {
    struct timespec old[2] = {{time(nullptr) - 60, 0}, {time(nullptr) - 60, 0}};
    ::utimensat(AT_FDCWD, dir.c_str(), old, 0);
  }
  RunResult repair = Run({ProchookBinary(), "repair"});
  INFO("repair: " << repair.out << repair.err);
  CHECK(WaitFor(5s, [&] { return !fs::exists(dir) && RenderersOf(dir) == 0; }));
}

}  // namespace

TEST_CASE("faults: the hook killed at any point leaves a working or untouched container, then nothing") {
  if (SkipUnlessReady({"timeout"})) return;
  // SIGKILL after 1 ms .. 80 ms: before parsing, while locating cgroups,
  // rendering, spawning, mounting, or after it finished. A runtime fails the
  // start of a container whose hook was killed, whatever the policy. After
  // 10 s the hook has surely finished: that start must serve.
  for (const std::string policy : {"fail-open", "fail-closed"}) {
    int served = 0;
    for (const std::string delay : {"0.001", "0.003", "0.006", "0.01", "0.015", "0.02", "0.025", "0.03", "0.035", "0.04", "0.08", "10"}) {
      CAPTURE(policy);
      CAPTURE(delay);
      std::string dir;
      {
        Container c({.hook_command = {"/bin/sh", "sh", "-c",
                                      "exec timeout -s KILL " + delay + " " + ProchookBinary() + " hook"},
                     .annotations = {{"io.prochook.policy", policy}}});
        dir = c.state_dir();
        RunResult start = c.Start();
        MESSAGE(policy << ", hook killed after " << delay << " s: container "
                       << std::string(start.exit_code == 0 ? "started" : "failed to start") << ", state dir "
                       << std::string(fs::exists(c.state_dir()) ? "present" : "absent"));
        if (start.exit_code == 0) {
          // Started: the hook finished before the kill, so it serves.
          RunResult mem = c.Exec({"head", "-n", "1", "/proc/meminfo"});
          CHECK(mem.exit_code == 0);
          CHECK(mem.out == "MemTotal:         262144 kB\n");
          served += mem.out == "MemTotal:         262144 kB\n";
        }
        c.Stop();
      }
      CheckNothingLeft(dir);
    }
    CHECK(served >= 1);
  }
}

TEST_CASE("faults: a hook stalled past half the runtime's timeout gives up: fail-open starts untouched, fail-closed refuses") {
  if (SkipUnlessReady()) return;
  // The runtime kills a hook that outlives its timeout (2 s here) and fails
  // the start. The hook is frozen (SIGSTOP) for 1.2 s at some point of its
  // work, as a starved or swapped-out machine would: when it resumes past
  // half the timeout it gives up at its next step and exits in time.
  const std::string host_first_line = [] {
    const std::string m = ReadText("/proc/meminfo");
    return m.substr(0, m.find('\n') + 1);
  }();
  for (const std::string policy : {"fail-open", "fail-closed"}) {
    int gave_up = 0, served = 0;
    for (const std::string delay : {"0.002", "0.004", "0.006", "0.008", "0.012", "0.5"}) {
      CAPTURE(policy);
      CAPTURE(delay);
      // setsid: the stopped hook in a session of its own. A stopped process
      // in a shared process group (Bazel runs every test in its server's)
      // makes the kernel send SIGHUP and SIGCONT to the whole group when it
      // becomes orphaned, which would reach other tests' processes. The
      // SIGCONT comes from a process of its own: if the runtime's timeout
      // kills this shell first (a slow machine), the hook still resumes
      // rather than stay stopped holding runc's output pipes, which runc
      // waits on for good (seen in the VM lane).
      const std::string script = "exec 3<&0; setsid " + ProchookBinary() +
                                 " hook <&3 3<&- & p=$!; sleep " + delay +
                                 "; kill -STOP $p 2>/dev/null;"
                                 " (sleep 1.2; kill -CONT $p 2>/dev/null) </dev/null >/dev/null 2>&1 & wait $p";
      std::string id, dir;
      {
        Container c({.hook_command = {"/bin/sh", "sh", "-c", script},
                     .hook_timeout_s = 2,
                     .annotations = {{"io.prochook.policy", policy}}});
        id = c.id();
        dir = c.state_dir();
        RunResult start = c.Start();
        const std::string log = HookLogFor(id);
        INFO("runc run: " << start.err << "\nhook log:\n" << log);
        const bool gave = log.find("hook deadline: gave up before") != std::string::npos;
        const bool serving = log.find("serving ") != std::string::npos;
        CHECK(gave != serving);  // one or the other, never killed by the runtime
        MESSAGE(policy << ", hook stopped after " << delay << " s: " << std::string(gave ? "gave up" : "served"));
        if (gave) {
          ++gave_up;
          CHECK_FALSE(fs::exists(c.state_dir()));
          CHECK(RenderersOf(dir) == 0);
          if (policy == "fail-open") {
            REQUIRE(start.exit_code == 0);
            CHECK(c.Exec({"head", "-n", "1", "/proc/meminfo"}).out == host_first_line);  // untouched
            CHECK(log.find("policy fail-open") != std::string::npos);
          } else {
            CHECK(start.exit_code != 0);
            CHECK(start.err.find("gave up before") != std::string::npos);  // the reason reaches the user
          }
        } else if (serving) {
          ++served;
          REQUIRE(start.exit_code == 0);
          CHECK(c.Exec({"head", "-n", "1", "/proc/meminfo"}).out == "MemTotal:         262144 kB\n");
        }
        c.Stop();
      }
      CheckNothingLeft(dir);
    }
    // Both paths were taken: frozen before its first step it gave up; frozen
    // after it finished (0.5 s) it served.
    CHECK(gave_up >= 1);
    CHECK(served >= 1);
  }
}
