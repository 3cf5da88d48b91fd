// Host and container conditions prochook must live with: no memory limit,
// the host's pid namespace, a pid namespace shared with another container
// (its init is not pid 1 there), a cpuset changed under a running
// container, a controller's cgroup missing or removed, the init's pid
// reused once the container is gone.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <memory>
#include <regex>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "tests/e2e/harness.h"

namespace fs = std::filesystem;
using namespace prochook::e2e;
using namespace std::chrono_literals;

namespace {

uint64_t HostMemTotal() { return MeminfoFields(ReadText("/proc/meminfo")).at("MemTotal"); }

// running/total of /proc/loadavg.
std::pair<int, int> LoadTasks(const Container& c) {
  std::string text = c.Exec({"cat", "/proc/loadavg"}).out;
  std::smatch m;
  REQUIRE_MESSAGE(std::regex_search(text, m, std::regex(" ([0-9]+)/([0-9]+) [0-9]+\\n$")), text);
  return {std::stoi(m[1]), std::stoi(m[2])};
}

// Runs argv in the container's mount namespace and root, from the host's
// pid namespace and cgroups: this works where `runc exec` does not (runc
// fails an exec when one of the container's cgroups was removed).
RunResult Enter(const Container& c, const std::vector<std::string>& argv) {
  std::vector<std::string> v = {"nsenter", "-t", std::to_string(c.InitPid()), "-m", "-r", "-w"};
  v.insert(v.end(), argv.begin(), argv.end());
  return Run(v);
}

// /proc/stat in the container changes at every refresh (idle time grows).
bool StatRefreshing(const Container& c) {
  const std::string a = Enter(c, {"cat", "/proc/stat"}).out;
  std::this_thread::sleep_for(400ms);
  const std::string b = Enter(c, {"cat", "/proc/stat"}).out;
  return !a.empty() && !b.empty() && a != b;
}

// One write(2) of text, as `echo text > path` does: 0, or its errno.
int WriteFile(const std::string& path, const std::string& text) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return errno;
  const int err = ::write(fd, text.data(), text.size()) < 0 ? errno : 0;
  ::close(fd);
  return err;
}

// The number of CPUs in a kernel CPU list ("0-1,4\n").
int CountCpuList(const std::string& list) {
  std::istringstream in(list);
  int n = 0;
  for (std::string range; std::getline(in, range, ',');) {
    const size_t dash = range.find('-');
    n += dash == std::string::npos ? 1 : std::stoi(range.substr(dash + 1)) - std::stoi(range) + 1;
  }
  return n;
}

// The CPUs the container's clients count, by source: the processor
// numbers of /proc/cpuinfo, the cpuN lines of /proc/stat,
// /sys/devices/system/cpu/online, glibc's get_nprocs (getconf, which reads
// online) and sched_getaffinity (nproc: the kernel's, from the cpuset).
// enter: read through Enter, whose process keeps the test's own affinity,
// so nproc is the init's affinity instead.
using CpusSeen = std::map<std::string, std::string>;

CpusSeen SeenCpus(const Container& c, bool enter = false) {
  const std::string script =
      "printf 'cpuinfo %s\\nstat %s\\nonline %s\\ngetconf %s\\nnproc %s\\n'"
      " \"$(sed -n 's/^processor[[:space:]]*: //p' /proc/cpuinfo | paste -sd,)\""
      " \"$(sed -n 's/^cpu\\([0-9][0-9]*\\) .*/\\1/p' /proc/stat | paste -sd,)\""
      " \"$(cat /sys/devices/system/cpu/online)\" \"$(getconf _NPROCESSORS_ONLN)\" \"$(nproc)\"";
  CpusSeen seen;
  const std::vector<std::string> argv = {"sh", "-c", script};
  std::istringstream in((enter ? Enter(c, argv) : c.Exec(argv)).out);
  for (std::string key, value; in >> key && std::getline(in, value);) seen[key] = value.substr(value.find(' ') + 1);
  if (enter) {
    const std::string status = ReadText("/proc/" + std::to_string(c.InitPid()) + "/status");
    std::smatch m;
    std::regex_search(status, m, std::regex("\nCpus_allowed_list:\t([0-9,-]+)\n"));
    seen["nproc"] = std::to_string(CountCpuList(m[1]));
  }
  return seen;
}

// What SeenCpus shows when the container has n CPUs, numbered 0..n-1.
CpusSeen Showing(int n) {
  std::string list;
  for (int i = 0; i < n; ++i) list += (i == 0 ? "" : ",") + std::to_string(i);
  return {{"cpuinfo", list},
          {"stat", list},
          {"online", n == 1 ? "0" : "0-" + std::to_string(n - 1)},
          {"getconf", std::to_string(n)},
          {"nproc", std::to_string(n)}};
}

std::string Describe(const CpusSeen& seen) {
  std::string out;
  for (const auto& [source, value] : seen) out += source + "=" + value + " ";
  return out;
}

// Moves every task of the container's cgroup of a controller elsewhere,
// then removes the cgroup: an administrator or an agent cleaning up
// cgroups under a running container. v1: to the root of that hierarchy.
// Unified: the container's one cgroup, to a leaf beside it (inner cgroups
// with controllers hold no processes), removed with the parent.
void EvacuateAndRemove(const Container& c, const std::string& controller) {
  const std::string dir = c.CgroupDir(controller);
  std::string root = "/sys/fs/cgroup/" + controller + "/cgroup.procs";
  if (UnifiedCgroups()) {
    const std::string leaf = c.ParentCgroupDir(controller) + "/evacuated";
    fs::create_directories(leaf);
    root = leaf + "/cgroup.procs";
  }
  std::istringstream tasks(ReadText(dir + (UnifiedCgroups() ? "/cgroup.procs" : "/tasks")));
  int moved = 0;
  for (int tid; tasks >> tid; ++moved) {
    const int err = WriteFile(root, std::to_string(tid));
    CHECK_MESSAGE((err == 0 || err == ESRCH), "moving " << tid << ": " << strerror(err));
  }
  REQUIRE(moved >= 1);
  REQUIRE_MESSAGE(WaitFor(2s, [&] { return ::rmdir(dir.c_str()) == 0; }), "rmdir " << dir << ": " << strerror(errno));
}

// The cgroup parent the harness made for c, in every hierarchy.
std::vector<std::string> CgroupParents(const Container& c) {
  std::vector<std::string> out;
  const std::string parent = fs::path(c.CgroupDir("memory")).parent_path().filename();
  for (const auto& h : fs::directory_iterator("/sys/fs/cgroup")) out.push_back((h.path() / parent).string());
  return out;
}

// A process this test forked, killed (SIGKILL) and reaped when it goes
// out of scope, whatever happens to the test.
class Child {
 public:
  explicit Child(pid_t pid) : pid_(pid) {}
  ~Child() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  // Not exited, not stopped: a signal would have done one or the other.
  bool Running() const {
    siginfo_t info{};
    if (::waitid(P_PID, pid_, &info, WEXITED | WSTOPPED | WNOHANG | WNOWAIT) != 0) return false;
    return info.si_pid == 0;
  }

 private:
  pid_t pid_;
};

// Makes the kernel hand `pid` to a new `sleep`: sets the last pid the host
// pid namespace allocated to pid - 1 (ns_last_pid, proc(5)) and forks. A
// process forked elsewhere in between takes it first: then again.
std::unique_ptr<Child> SpawnWithPid(pid_t pid) {
  for (int attempt = 0; attempt < 100; ++attempt) {
    const int err = WriteFile("/proc/sys/kernel/ns_last_pid", std::to_string(pid - 1));
    REQUIRE_MESSAGE(err == 0, "ns_last_pid: " << strerror(err));
    const pid_t child = ::fork();
    if (child == 0) {
      ::execl("/bin/sleep", "sleep", "100000", nullptr);
      ::_exit(127);
    }
    REQUIRE(child > 0);
    auto spawned = std::make_unique<Child>(child);
    if (child == pid) return spawned;
  }
  return nullptr;
}

}  // namespace

TEST_CASE("conditions: no memory limit shows the host's memory as the kernel reports it") {
  if (SkipUnlessReady()) return;
  Container c({.memory_limit = 0});
  REQUIRE(c.Start().exit_code == 0);
  RequireServed(c);  // an unserved container shows the kernel's figures too
  auto f = MeminfoFields(c.Exec({"cat", "/proc/meminfo"}).out);
  CHECK(f.at("MemTotal") == HostMemTotal());
  CHECK(f.at("MemAvailable") <= f.at("MemTotal"));
  // The host's figures (not host total minus the container's usage, which
  // would claim memory the host itself is using is free).
  CHECK(f.at("MemFree") <= f.at("MemTotal"));
  const uint64_t host_free = MeminfoFields(ReadText("/proc/meminfo")).at("MemFree");
  CHECK(f.at("MemFree") < host_free + 256 * 1024);
  CHECK(f.at("MemFree") + 256 * 1024 > host_free);
}

TEST_CASE("conditions: the host's pid namespace") {
  if (SkipUnlessReady()) return;
  Container c({.pid_ns = "host"});
  REQUIRE(c.Start().exit_code == 0);
  CHECK(MeminfoFields(c.Exec({"cat", "/proc/meminfo"}).out).at("MemTotal") == 262144);
  // The container's tasks only (its cgroup), not the host's hundreds.
  auto [running, total] = LoadTasks(c);
  CHECK(total >= 1);
  CHECK(total < 10);
  CHECK(running <= total);
}

TEST_CASE("conditions: a second container in the first one's pid namespace (init not pid 1)") {
  if (SkipUnlessReady()) return;
  Container a({});
  REQUIRE(a.Start().exit_code == 0);
  Container b({.memory_limit = 128ull << 20, .pid_ns = "/proc/" + std::to_string(a.InitPid()) + "/ns/pid"});
  RunResult start = b.Start();
  REQUIRE_MESSAGE(start.exit_code == 0, "runc run: " << start.err);
  CHECK(b.Exec({"cat", "/proc/1/comm"}).out == "sleep\n");  // a's init is pid 1 here
  CHECK(MeminfoFields(b.Exec({"cat", "/proc/meminfo"}).out).at("MemTotal") == 131072);
  CHECK(MeminfoFields(a.Exec({"cat", "/proc/meminfo"}).out).at("MemTotal") == 262144);
  // b's loadavg counts b's cgroup, not the namespace's tasks.
  auto [running, total] = LoadTasks(b);
  CHECK(total < 10);
  // a's init is the namespace's init: when it dies the kernel kills b's
  // too, and b's renderer cleans up after it.
  a.Stop();
  CHECK(WaitFor(std::chrono::seconds(10), [&] { return !std::filesystem::exists(b.state_dir()); }));
  CHECK(WaitFor(std::chrono::seconds(5), [&] { return RenderersOf(b.state_dir()) == 0; }));
}

TEST_CASE("conditions: a cpuset shrunk and grown under a running container; emptying it is refused, never 0 CPUs") {
  if (SkipUnlessReady({"getconf", "nproc"})) return;
  Container c({.cpus = "0-1", .annotations = {{"io.prochook.interval", "100ms"}, {"io.prochook.idle", "off"}}});
  RunResult start = c.Start();
  REQUIRE_MESSAGE(start.exit_code == 0, "runc run: " << start.err);
  RequireServed(c);  // 2 CPUs may be the host's
  CpusSeen seen = SeenCpus(c);
  REQUIRE_MESSAGE(seen == Showing(2), Describe(seen));

  // While the view changes, every source shows the old count or the new
  // one, never 0 CPUs. (Sources are read one after the other, so a refresh
  // may fall between two of them.)
  auto settles_on = [&](int n) {
    const auto from = std::chrono::steady_clock::now();
    const bool settled = WaitFor(1500ms, [&] {
      seen = SeenCpus(c);
      for (const auto& [source, value] : seen) {
        CHECK_MESSAGE((value == Showing(1)[source] || value == Showing(2)[source]), Describe(seen));
      }
      return seen == Showing(n);
    });
    MESSAGE(n << " CPU(s) shown by every source after "
              << std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - from).count()
              << " ms");
    return settled;
  };
  const std::string cpuset = c.CgroupDir("cpuset");
  REQUIRE(WriteFile(cpuset + "/cpuset.cpus", "1\n") == 0);
  CHECK_MESSAGE(settles_on(1), Describe(seen));

  if (UnifiedCgroups()) {
    // cgroup v2 (6.1) refuses to empty the cpuset of a cgroup with tasks
    // too (ENOSPC); a zero-length write changes nothing. A parent may
    // narrow its cpuset below the child's: the child's effective set is
    // then what both allow, or the parent's, never empty.
    CHECK(WriteFile(cpuset + "/cpuset.cpus", "\n") == ENOSPC);
    CHECK(WriteFile(cpuset + "/cpuset.cpus", " ") == ENOSPC);
    CHECK(WriteFile(cpuset + "/cpuset.cpus", "") == 0);
    const std::string parent = fs::path(cpuset).parent_path() / "cpuset.cpus";
    REQUIRE(WriteFile(parent, "0\n") == 0);
    CHECK(ReadText(cpuset + "/cpuset.cpus.effective") == "0\n");
    CHECK_MESSAGE(settles_on(1), Describe(seen));
    // Widened again (the kernel refuses to empty it under a child that
    // names CPUs): the child's own set is back.
    REQUIRE(WriteFile(parent, ReadText("/sys/fs/cgroup/cpuset.cpus.effective")) == 0);
    CHECK(ReadText(cpuset + "/cpuset.cpus.effective") == "1\n");
  } else {
    // cgroup v1 refuses to empty the cpuset of a cgroup with tasks
    // (ENOSPC), to name CPUs beyond nr_cpu_ids (ERANGE), and to take from
    // a parent a CPU its child uses (EBUSY; cpuset(7)); a zero-length
    // write (the shell's `printf '' >`) changes nothing.
    CHECK(WriteFile(cpuset + "/cpuset.cpus", "\n") == ENOSPC);
    CHECK(WriteFile(cpuset + "/cpuset.cpus", " ") == ENOSPC);
    CHECK(WriteFile(cpuset + "/cpuset.cpus", "65535\n") == ERANGE);
    CHECK(WriteFile(cpuset + "/cpuset.cpus", "") == 0);
    CHECK(WriteFile(cpuset + "/cpuset.mems", "\n") == ENOSPC);
    CHECK(WriteFile(fs::path(cpuset).parent_path() / "cpuset.cpus", "0\n") == EBUSY);
    CHECK(ReadText(cpuset + "/cpuset.effective_cpus") == "1\n");
  }
  CHECK(ReadText(cpuset + "/cpuset.cpus") == "1\n");
  // The container keeps its one CPU through many refreshes.
  for (int i = 0; i < 4; ++i) {
    std::this_thread::sleep_for(150ms);
    seen = SeenCpus(c);
    CHECK_MESSAGE(seen == Showing(1), Describe(seen));
  }

  REQUIRE(WriteFile(cpuset + "/cpuset.cpus", "0-1\n") == 0);
  CHECK_MESSAGE(settles_on(2), Describe(seen));
  CHECK(Alive(RendererPid(c)));
  const std::string log = ReadText(c.state_dir() + "/renderer.log");
  INFO("renderer log:\n" << log);
  CHECK(log.find("keeping last good content") == std::string::npos);
}

TEST_CASE("conditions: a controller's cgroup removed under a running container: its file keeps or falls back, the rest refresh") {
  if (SkipUnlessReady({"nsenter"})) return;
  const int host_cpus = CountCpuList(ReadText("/sys/devices/system/cpu/online"));
  struct Case {
    std::string controller;
    std::string frozen;  // the file that keeps its last good content, "" for none
    std::string logged;  // what the renderer log says, "" for nothing
  };
  // What the container's tasks, now in the hierarchy's root, are under:
  // no memory limit (meminfo shows the host's figures), the parent
  // cgroup's cpuset (every host CPU), no usage of its own (stat and
  // diskstats stay as last rendered rather than jump to the host's
  // counters), no task list in the cpu cgroup (loadavg stays too).
  const std::vector<Case> cases = {
      {"blkio", "diskstats", "diskstats: blkio cgroup "},
      {"cpuacct", "stat", "stat: CPU usage of "},
      {"cpu", "loadavg", "loadavg: the container's tasks cannot be read"},
      {"cpuset", "", ""},
      {"memory", "", "memory shows host values: memory cgroup "},
      {"pids", "", ""},
  };
  for (const Case& t : cases) {
    CAPTURE(t.controller);
    std::vector<std::string> parents;
    {
      Container c({.cpus = "1", .annotations = {{"io.prochook.interval", "100ms"}, {"io.prochook.idle", "off"}}});
      parents = CgroupParents(c);
      RunResult start = c.Start();
      REQUIRE_MESSAGE(start.exit_code == 0, "runc run: " << start.err);
      const std::string dir = c.CgroupDir(t.controller);
      const int renderer = RendererPid(c);
      const std::string log_file = c.state_dir() + "/renderer.log";
      EvacuateAndRemove(c, t.controller);
      // From here on `runc exec` fails (runc 1.1 cannot join the removed
      // cgroup): the container is read through Enter.
      // A refresh or two after the removal.
      if (t.logged.empty()) std::this_thread::sleep_for(300ms);
      else CHECK(WaitFor(2s, [&] { return ReadText(log_file).find(t.logged) != std::string::npos; }));

      std::map<std::string, std::string> first;
      for (int round = 0; round < 3; ++round) {
        if (round > 0) std::this_thread::sleep_for(200ms);
        CAPTURE(round);
        std::map<std::string, std::string> now;
        for (const std::string f : {"meminfo", "stat", "cpuinfo", "loadavg", "diskstats", "swaps"}) {
          RunResult r = Enter(c, {"cat", "/proc/" + f});
          CAPTURE(f);
          CHECK(r.exit_code == 0);
          CHECK(r.err == "");
          REQUIRE(!r.out.empty());
          CHECK(r.out.back() == '\n');
          now[f] = r.out;
        }
        const uint64_t mem_total = MeminfoFields(now["meminfo"]).at("MemTotal");
        CHECK(mem_total == (t.controller == "memory" ? HostMemTotal() : 262144));
        CHECK(now["stat"].rfind("cpu  ", 0) == 0);
        CHECK(now["stat"].find("\nbtime ") != std::string::npos);
        CHECK(std::regex_match(now["loadavg"], std::regex("[0-9.]+ [0-9.]+ [0-9.]+ [0-9]+/[0-9]+ [0-9]+\n")));
        std::istringstream disks(now["diskstats"]);
        for (std::string line; std::getline(disks, line);) {
          CHECK_MESSAGE(std::regex_match(line, std::regex(" *[0-9]+ +[0-9]+ [^ ]+( [0-9]+){17}")), line);
        }
        if (round == 0) first = now;
        if (!t.frozen.empty()) CHECK_MESSAGE(now[t.frozen] == first[t.frozen], t.frozen << " keeps its last good content");
        // Not the host's I/O counters, which the root's blkio cgroup now
        // holds the container's tasks in.
        if (t.frozen == "diskstats") CHECK(now["diskstats"] != ReadText("/proc/diskstats"));
      }
      const CpusSeen cpus = SeenCpus(c, /*enter=*/true);
      CHECK_MESSAGE(cpus == Showing(t.controller == "cpuset" ? host_cpus : 1), Describe(cpus));
      if (t.frozen != "stat") CHECK(StatRefreshing(c));
      // The renderer lives on and refreshes (its state dir's mtime moves).
      CHECK(Alive(renderer));
      const auto refreshed = fs::last_write_time(c.state_dir());
      CHECK(WaitFor(1s, [&] { return fs::last_write_time(c.state_dir()) != refreshed; }));
      const std::string log = ReadText(log_file);
      INFO("renderer log:\n" << log);
      if (t.logged.empty()) {
        CHECK(log.find(" warn: ") == std::string::npos);
      } else {
        CHECK(log.find(t.logged) != std::string::npos);
        // Said when it changes (the kept file's read fails, then it is
        // gone), not at every refresh: the log lives in the store.
        size_t said = 0;
        for (size_t at = log.find(t.logged); at != std::string::npos; at = log.find(t.logged, at + 1)) ++said;
        CHECK(said <= 2);
        if (t.frozen.empty()) CHECK(log.find(dir) != std::string::npos);
        else CHECK(log.find(t.frozen + ": ") != std::string::npos);
        // `prochook ps` says it too.
        const auto ps = nlohmann::json::parse(Run({ProchookBinary(), "ps", "--json"}).out);
        std::string state, problem;
        for (const auto& e : ps["containers"]) {
          if (e["id"] == c.id()) state = e["state"], problem = e.value("problem", "");
        }
        CHECK(state == "failing");
        CHECK(problem.find(t.logged) != std::string::npos);
      }
    }
    // The harness still removes every cgroup it made.
    for (const std::string& p : parents) CHECK_MESSAGE(!fs::exists(p), p);
  }
}

TEST_CASE("conditions: a renderer whose every file fails stops its heartbeat, and ps says why") {
  if (SkipUnlessReady({"nsenter"})) return;
  // Only loadavg, which needs the cpu cgroup's task list: removing that
  // cgroup makes every refresh fail.
  Container c({.annotations = {{"io.prochook.files", "loadavg"},
                               {"io.prochook.interval", "100ms"},
                               {"io.prochook.idle", "off"}}});
  REQUIRE(c.Start().exit_code == 0);
  CHECK(Enter(c, {"cat", "/proc/loadavg"}).out != ReadText("/proc/loadavg"));  // served
  EvacuateAndRemove(c, "cpu");
  const std::string why = "loadavg: the container's tasks cannot be read";
  REQUIRE(WaitFor(2s, [&] { return ReadText(c.state_dir() + "/renderer.log").find(why) != std::string::npos; }));
  // Ten intervals without a written file: the state dir's mtime stays.
  std::this_thread::sleep_for(200ms);
  const auto last = fs::last_write_time(c.state_dir());
  std::this_thread::sleep_for(1s);
  CHECK(fs::last_write_time(c.state_dir()) == last);
  CHECK(ReadText(c.state_dir() + "/problems") == why + "\n");
  const auto ps = nlohmann::json::parse(Run({ProchookBinary(), "ps", "--json"}).out);
  bool found = false;
  for (const auto& e : ps["containers"]) {
    if (e["id"] != c.id()) continue;
    found = true;
    CHECK(e["state"] == "failing");
    CHECK(e["problems"] == nlohmann::json({why}));
    CHECK(e["refreshed_ago_s"].get<double>() >= 1.0);
  }
  CHECK(found);
}

TEST_CASE("conditions: a controller's cgroup removed, then made again with the container moved back: its figures come back") {
  if (SkipUnlessReady({"nsenter"})) return;
  const int host_cpus = CountCpuList(ReadText("/sys/devices/system/cpu/online"));
  for (const std::string controller : {"cpuacct", "cpuset", "memory"}) {
    CAPTURE(controller);
    Container c({.cpus = "1", .annotations = {{"io.prochook.interval", "100ms"}, {"io.prochook.idle", "off"}}});
    RunResult start = c.Start();
    REQUIRE_MESSAGE(start.exit_code == 0, "runc run: " << start.err);
    const int init = c.InitPid();
    const std::string dir = c.CgroupDir(controller);
    const std::string cpuset_mems = ReadText(c.CgroupDir("cpuset") + "/cpuset.mems");
    EvacuateAndRemove(c, controller);
    // The renderer has seen the removal.
    CHECK(WaitFor(2s, [&] {
      if (controller == "cpuacct") return ReadText(c.state_dir() + "/renderer.log").find("stat: CPU usage of ") != std::string::npos;
      if (controller == "cpuset") return SeenCpus(c, /*enter=*/true) == Showing(host_cpus);
      return MeminfoFields(Enter(c, {"cat", "/proc/meminfo"}).out)["MemTotal"] == HostMemTotal();
    }));
    // Gone for several refreshes, each looking for its files in vain (the
    // renderer used to remember them as absent for good, and kept showing
    // the fallback after the cgroup came back).
    std::this_thread::sleep_for(500ms);

    // Made again as the runtime had it, and the init moved back in.
    REQUIRE(::mkdir(dir.c_str(), 0755) == 0);
    if (controller == "cpuset") {
      REQUIRE(WriteFile(dir + "/cpuset.cpus", "1\n") == 0);
      REQUIRE(WriteFile(dir + "/cpuset.mems", cpuset_mems) == 0);
    }
    if (controller == "memory") REQUIRE(WriteFile(dir + "/memory.limit_in_bytes", "268435456\n") == 0);
    REQUIRE(WriteFile(dir + "/cgroup.procs", std::to_string(init)) == 0);
    CpusSeen seen;
    if (controller == "cpuacct") CHECK(WaitFor(2s, [&] { return StatRefreshing(c); }));
    if (controller == "cpuset") CHECK_MESSAGE(WaitFor(2s, [&] { return (seen = SeenCpus(c)) == Showing(1); }), Describe(seen));
    if (controller == "memory") {
      CHECK(WaitFor(2s, [&] { return MeminfoFields(c.Exec({"cat", "/proc/meminfo"}).out)["MemTotal"] == 262144; }));
    }
    INFO("renderer log:\n" << ReadText(c.state_dir() + "/renderer.log"));
    CHECK(Alive(RendererPid(c)));
  }
}

TEST_CASE("conditions: a container started without a blkio cgroup (the runtime sees no blkio hierarchy) shows the host's disks") {
  if (SkipUnlessReady({"unshare", "nsenter"})) return;
  // runc creates cgroups in the hierarchies it finds mounted: started from
  // a private mount namespace without the blkio hierarchy (the host's is
  // untouched), it leaves the init in its own blkio cgroup, the root, and
  // so does the hook it runs. The store must be mounted on the host before
  // (the first hook mounts it, and would do so in that namespace).
  if (ReadText("/proc/self/mountinfo").find(" /run/prochook ") == std::string::npos) {
    Container first({});
    REQUIRE(first.Start().exit_code == 0);
  }
  Container c({.annotations = {{"io.prochook.interval", "100ms"}, {"io.prochook.idle", "off"}}});
  std::vector<std::string> argv = {"unshare", "--mount", "--propagation", "private",
                                   "sh", "-c", "umount /sys/fs/cgroup/blkio && exec \"$@\"", "sh"};
  for (const std::string& a : c.Runc({"run", "-d", "--bundle", c.bundle(), c.id()})) argv.push_back(a);
  RunResult start = Run(argv);
  REQUIRE_MESSAGE(start.exit_code == 0, "runc run: " << start.err);
  const std::string root_procs = "\n" + ReadText("/sys/fs/cgroup/blkio/cgroup.procs");
  CHECK(root_procs.find("\n" + std::to_string(c.InitPid()) + "\n") != std::string::npos);
  CHECK_FALSE(fs::exists(c.CgroupDir("blkio")));
  CHECK(fs::exists(c.CgroupDir("memory")));
  const auto record = nlohmann::json::parse(ReadText(c.state_dir() + "/state.json"));
  CHECK_FALSE(record["cgroups"].contains("blkio"));
  CHECK(record["cgroups"].contains("memory"));

  RequireServed(c);
  // The host's disks through prochook's file, not the kernel's.
  const auto served = ServedMounts(c);
  REQUIRE(std::count(served.begin(), served.end(), "/proc/diskstats") == 1);
  CHECK(StatRefreshing(c));
  // No I/O accounting of its own: the host's disks and counters, at most
  // an interval old (reads and writes completed only grow).
  auto counters = [](const std::string& text) {
    std::map<std::string, std::pair<uint64_t, uint64_t>> out;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
      std::istringstream f(line);
      std::string major, minor, name;
      uint64_t reads = 0, skip = 0, writes = 0;
      f >> major >> minor >> name >> reads >> skip >> skip >> skip >> writes;
      out[name] = {reads, writes};
    }
    return out;
  };
  const auto host_before = counters(ReadText("/proc/diskstats"));
  std::this_thread::sleep_for(300ms);
  const auto seen = counters(c.Exec({"cat", "/proc/diskstats"}).out);
  const auto host_after = counters(ReadText("/proc/diskstats"));
  REQUIRE(seen.size() == host_after.size());
  uint64_t total = 0;
  for (const auto& [disk, rw] : seen) {
    CAPTURE(disk);
    REQUIRE(host_before.count(disk) == 1);
    CHECK(rw.first >= host_before.at(disk).first);
    CHECK(rw.first <= host_after.at(disk).first);
    CHECK(rw.second >= host_before.at(disk).second);
    CHECK(rw.second <= host_after.at(disk).second);
    total += rw.first + rw.second;
  }
  CHECK(total > 0);  // the host's disks have done I/O since boot
  const std::string log = ReadText(c.state_dir() + "/renderer.log");
  INFO("renderer log:\n" << log);
  CHECK(log.find(" warn: ") == std::string::npos);
}

TEST_CASE("conditions: the init's pid reused after the container died unattended: repair removes its state, leaves the process alone") {
  if (SkipUnlessReady()) return;
  Container c({});
  REQUIRE(c.Start().exit_code == 0);
  const std::string dir = c.state_dir();
  // Nobody left to clean up: the renderer is killed, then the init (so
  // no poststop hook runs either).
  const int renderer = RendererPid(c);
  REQUIRE(Alive(renderer));
  ::kill(renderer, SIGKILL);
  REQUIRE(WaitFor(5s, [&] { return !Alive(renderer); }));
  const pid_t init = c.InitPid();
  REQUIRE(init > 0);
  ::kill(init, SIGKILL);
  REQUIRE(WaitFor(5s, [&] { return !Alive(init); }));  // exited and reaped
  std::unique_ptr<Child> reused = SpawnWithPid(init);
  REQUIRE_MESSAGE(reused != nullptr, "pid " << init << " was taken by other processes every time");
  const std::string comm = "/proc/" + std::to_string(init) + "/comm";
  REQUIRE(WaitFor(2s, [&] { return ReadText(comm) == "sleep\n"; }));  // exec'd
  REQUIRE(fs::exists(dir + "/state.json"));

  // The pid names a live process, but not the container's init (its start
  // time differs).
  const auto ps = nlohmann::json::parse(Run({ProchookBinary(), "ps", "--json"}).out);
  std::string state = "missing";
  for (const auto& e : ps["containers"]) {
    if (e["id"] == c.id()) state = e["state"];
  }
  CHECK(state == "container-gone");
  RunResult repair = Run({ProchookBinary(), "repair"});
  INFO("repair: " << repair.out << repair.err);
  CHECK(repair.exit_code == 0);
  CHECK(repair.out.find(c.state_dir_name() + ": container gone, state removed\n") != std::string::npos);
  CHECK(repair.out.find(c.state_dir_name() + ": renderer restarted") == std::string::npos);
  CHECK_FALSE(fs::exists(dir));
  CHECK(RenderersOf(dir) == 0);
  CHECK(reused->Running());
  CHECK(ReadText(comm) == "sleep\n");
  // Nothing left to do.
  CHECK(Run({ProchookBinary(), "repair"}).out.find(c.id()) == std::string::npos);
  CHECK(reused->Running());
}

TEST_CASE("conditions: v1 blkio: a disk no cgroup ever throttled is counted in the container's diskstats") {
  if (SkipUnlessReady({"losetup", "dd"})) return;
  // A fresh loop device: since Linux 6.10 no v1 cgroup counts I/O on a disk
  // until some cgroup configured a throttle limit on it; the hook does
  // (a "no limit" entry) for every disk there is when the container starts.
  char tmpl[] = "/tmp/prochook-blkio-XXXXXX";
  REQUIRE(::mkdtemp(tmpl) != nullptr);
  const std::string dir = tmpl;
  struct Cleanup {
    std::string dir, loop;
    ~Cleanup() {
      if (!loop.empty()) Run({"losetup", "-d", loop});
      std::error_code ec;
      fs::remove_all(dir, ec);
    }
  } cleanup{dir, ""};
  REQUIRE(Run({"truncate", "-s", "64M", dir + "/img"}).exit_code == 0);
  // A loop device that has not existed since boot (a detached one stays a
  // disk, and may have been throttled): losetup makes it.
  int n = 200 + getpid() % 800;
  while (fs::exists("/sys/block/loop" + std::to_string(n))) ++n;
  const std::string name = "loop" + std::to_string(n);
  RunResult attach = Run({"losetup", "/dev/" + name, dir + "/img"});
  REQUIRE_MESSAGE(attach.exit_code == 0, attach.err);
  cleanup.loop = "/dev/" + name;

  Container c({.annotations = {{"io.prochook.interval", "100ms"}, {"io.prochook.idle", "off"}}});
  REQUIRE(c.Start().exit_code == 0);
  RequireServed(c);
  // 4 MiB written straight to the device by a process in the container's
  // blkio cgroup (the container has no device node for it).
  RunResult dd = Run({"sh", "-c", "echo $$ > " + c.CgroupDir("blkio") + "/cgroup.procs && exec dd if=/dev/zero of=" +
                                      cleanup.loop + " bs=1M count=4 oflag=direct status=none"});
  REQUIRE_MESSAGE(dd.exit_code == 0, dd.err);
  uint64_t sectors = 0;
  const bool counted = WaitFor(5s, [&] {
    std::istringstream in(c.Exec({"cat", "/proc/diskstats"}).out);
    for (std::string line; std::getline(in, line);) {
      std::istringstream f(line);
      std::string major, minor, disk;
      uint64_t v[7] = {};
      f >> major >> minor >> disk >> v[0] >> v[1] >> v[2] >> v[3] >> v[4] >> v[5] >> v[6];
      if (disk == name) sectors = v[6];  // sectors written
    }
    return sectors >= 8192;
  });
  INFO(name << " sectors written in the container's diskstats: " << sectors);
  CHECK(counted);
  CHECK(sectors <= 8192 + 64);
}
