// The Debian package end to end: built from the binary under test with
// packaging/deb.sh, installed with apt, podman containers (runc and crun)
// served through the package's hooks.d file alone, the package removed
// while they run (they keep reading fresh files and stop cleanly), then
// purged: nothing of prochook is left on the host.
//
// While the package is installed its hooks.d file serves every podman
// container on this machine that uses the default hooks directories, so it
// stays installed only as long as the checks take, and a destructor purges
// it whatever happened. Only podman's own configuration is installed with
// `prochook install` (docker and containerd are others' to use here).
#include <doctest/doctest.h>
#include <unistd.h>

#include <filesystem>
#include <sstream>

#include "tests/e2e/engines.h"
#include "tests/e2e/harness.h"

namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace prochook::e2e {
namespace {

constexpr char kBinary[] = "/usr/bin/prochook";
constexpr char kHooksD[] = "/usr/share/containers/oci/hooks.d/prochook.json";
constexpr char kPodmanDropIn[] = "/etc/containers/containers.conf.d/prochook.conf";
constexpr char kRuntimeLink[] = "/usr/bin/prochook-runtime";
constexpr char kRunDir[] = "/run/prochook";
constexpr char kStoreDir[] = "/var/lib/prochook";

std::vector<std::string> Cat(std::vector<std::string> a, const std::vector<std::string>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

// apt-get, waiting for the dpkg lock rather than failing on it (others'
// tools/deps.sh may hold it).
RunResult Apt(const std::vector<std::string>& args) {
  return Run(Cat({"env", "DEBIAN_FRONTEND=noninteractive", "apt-get", "-o", "DPkg::Lock::Timeout=300", "-y", "-q"},
                 args));
}

// dpkg's status of the package ("" when dpkg does not know it).
std::string PackageStatus() {
  RunResult r = Run({"dpkg-query", "-W", "-f=${Status}", "prochook"});
  return r.exit_code == 0 ? r.out : "";
}

bool Exists(const std::string& path) {
  std::error_code ec;
  return fs::exists(fs::symlink_status(path, ec));
}

// The package, built from the binary under test into a directory of its own.
class Package {
 public:
  Package() {
    char tmpl[] = "/tmp/prochook-deb-test-XXXXXX";
    REQUIRE(::mkdtemp(tmpl) != nullptr);
    dir_ = tmpl;
    RunResult r = Run({"bash", "packaging/deb.sh", "--binary", ProchookBinary(), "--out", dir_});
    INFO("deb.sh: " << r.out << r.err);
    REQUIRE(r.exit_code == 0);
    std::istringstream lines(r.out);
    for (std::string line; std::getline(lines, line);) path_ = line;
    REQUIRE(fs::exists(path_));
  }
  ~Package() {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string dir_;
  std::string path_;
};

// The package installed for this scope: purged by the destructor, also
// when a check failed (containers declared after it are gone by then),
// and what this test's `prochook install` wrote removed should the
// package have left it.
class Installed {
 public:
  explicit Installed(const Package& package) {
    // Never take over or purge an installation that is not this test's.
    REQUIRE_MESSAGE(PackageStatus().empty(), "prochook is already known to dpkg: " << PackageStatus());
    for (const char* path : {kBinary, kHooksD, kPodmanDropIn, kRuntimeLink}) {
      REQUIRE_MESSAGE(!Exists(path), path << " exists and is not this test's");
    }
    drop_in_dir_made_ = !Exists(fs::path(kPodmanDropIn).parent_path());
    armed_ = true;
    RunResult r = Apt({"install", "--no-install-recommends", package.path()});
    INFO("apt-get install: " << r.out << r.err);
    REQUIRE(r.exit_code == 0);
  }
  ~Installed() {
    if (!armed_) return;
    if (!purged_) Purge();
    ::unlink(kPodmanDropIn);
    ::unlink(kRuntimeLink);
    // `prochook uninstall` leaves the directories `install` made.
    if (drop_in_dir_made_) ::rmdir(fs::path(kPodmanDropIn).parent_path().c_str());
  }
  RunResult Purge() {
    purged_ = true;
    return Apt({"purge", "prochook"});
  }

 private:
  bool armed_ = false;
  bool purged_ = false;
  bool drop_in_dir_made_ = false;
};

uint64_t MemTotal(const std::string& meminfo) { return MeminfoFields(meminfo)["MemTotal"]; }

// user + system of the `cpu` line of a /proc/stat text.
uint64_t BusyTicks(const std::string& stat) {
  std::istringstream in(stat);
  std::string label;
  uint64_t user = 0, nice = 0, system = 0;
  in >> label >> user >> nice >> system;
  return label == "cpu" ? user + system : 0;
}

// One served podman container: its id, state directory and renderer.
struct Served {
  std::string name;
  EngineContainer* c;
  std::string state_dir;
  int renderer = 0;
};

// The container reads MemTotal = its 256 MiB limit (the host's differs),
// from its state directory's renderer.
Served RequireServedByPackage(const std::string& name, EngineContainer& c) {
  INFO(name);
  REQUIRE_MESSAGE(c.start().exit_code == 0, "podman run: " << c.start().out << c.start().err);
  const uint64_t host = MemTotal(ReadText("/proc/meminfo"));
  RunResult m = c.Exec({"cat", "/proc/meminfo"});
  REQUIRE(m.exit_code == 0);
  CHECK(host != 256u * 1024);
  REQUIRE(MemTotal(m.out) == 256u * 1024);
  Served s{name, &c, StateDirFor(c.id()), 0};
  REQUIRE_MESSAGE(!s.state_dir.empty(), "no state directory for " << c.id());
  s.renderer = std::atoi(ReadText(s.state_dir + "/renderer.pid").c_str());
  REQUIRE(Alive(s.renderer));
  return s;
}

// Still served with the package removed: the same renderer, the limit in
// meminfo, and /proc/stat following a second of the container's CPU work.
void CheckStillServed(const Served& s) {
  INFO(s.name);
  CHECK(Alive(s.renderer));
  RunResult m = s.c->Exec({"cat", "/proc/meminfo"});
  CHECK(m.exit_code == 0);
  CHECK(MemTotal(m.out) == 256u * 1024);
  // A container this quiet may not have used a tick (10 ms) yet: 0 is fine.
  const std::string stat = s.c->Exec({"cat", "/proc/stat"}).out;
  REQUIRE_MESSAGE(stat.rfind("cpu ", 0) == 0, stat);
  const uint64_t before = BusyTicks(stat);
  s.c->Exec({"timeout", "1", "sh", "-c", "while :; do :; done"});
  CHECK(WaitFor(10s, [&] { return BusyTicks(s.c->Exec({"cat", "/proc/stat"}).out) >= before + 30; }));
}

// Stopped and removed the engine's way although the poststop hook's
// binary is gone; the renderer ends with the container and removes its
// state.
void CheckStopsCleanly(const Served& s) {
  INFO(s.name);
  RunResult stop = s.c->Cli({"stop", "-t", "0", s.c->id()});
  INFO("podman stop: " << stop.out << stop.err);
  CHECK(stop.exit_code == 0);
  RunResult rm = s.c->Cli({"rm", s.c->id()});
  INFO("podman rm: " << rm.out << rm.err);
  CHECK(rm.exit_code == 0);
  CHECK(s.c->Cli({"container", "exists", s.c->id()}).exit_code == 1);
  CHECK(WaitFor(10s, [&] { return !Alive(s.renderer); }));
  CHECK(WaitFor(10s, [&] { return !fs::exists(s.state_dir); }));
}

// Processes running prochook's packaged binary (also once it is deleted).
int PackagedProcesses() {
  int n = 0;
  std::error_code ec;
  for (const auto& p : fs::directory_iterator("/proc", ec)) {
    const std::string exe = fs::read_symlink(p.path() / "exe", ec).string();
    if (exe.rfind(kBinary, 0) == 0) ++n;
  }
  return n;
}

// State directories in the run directory: containers served by other
// prochook builds on this machine, which keep the store.
bool OthersServed() {
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(kRunDir, ec)) {
    if (e.is_directory(ec)) return true;
  }
  return false;
}

// Mounts at or under the run directory (the store), in the host's table.
int StoreMounts() {
  std::istringstream table(ReadText("/proc/self/mountinfo"));
  const std::string run = kRunDir;
  int n = 0;
  for (std::string line; std::getline(table, line);) {
    std::istringstream fields(line);
    std::string id, parent, dev, root, point;
    fields >> id >> parent >> dev >> root >> point;
    if (point == run || point.rfind(run + "/", 0) == 0) ++n;
  }
  return n;
}

// The renderers' cgroups (one per hierarchy) that hold no process: purge
// removes those; ones in use belong to other prochook builds' renderers.
int EmptyRendererCgroups() {
  int n = 0;
  std::error_code ec;
  for (const auto& h : fs::directory_iterator("/sys/fs/cgroup", ec)) {
    const fs::path dir = h.path() / "prochook";
    if (fs::is_directory(dir, ec) && ReadText((dir / "cgroup.procs").string()).empty()) ++n;
  }
  return n;
}

}  // namespace

TEST_CASE("apt install serves new podman containers; remove keeps them served; purge leaves nothing") {
  if (SkipUnlessReady({"podman", "crun", "apt-get", "dpkg-deb"})) return;
  Package package;
  Installed installed(package);

  // The package's binary is the one under test and its hooks.d file is the
  // one `prochook install` writes.
  CHECK(Run({kBinary, "version"}).out == Run({ProchookBinary(), "version"}).out);
  RunResult same = Run({kBinary, "install", "--dry-run", "--engines", "crio"});
  CHECK(same.out.find(std::string(kHooksD) + " unchanged") != std::string::npos);
  CHECK(Run({"man", "-w", "prochook"}).out.find("/usr/share/man/man8/prochook.8.gz") != std::string::npos);
  // What an operator adds for podman's runtime `prochook`; remove must undo it.
  RunResult podman = Run({kBinary, "install", "--engines", "podman"});
  INFO("prochook install: " << podman.out << podman.err);
  REQUIRE(podman.exit_code == 0);
  REQUIRE(Exists(kPodmanDropIn));
  REQUIRE(Exists(kRuntimeLink));

  {
    EngineContainer with_runc(Engine::kPodmanRunc, {.host_hooks = true});
    EngineContainer with_crun(Engine::kPodmanCrun, {.host_hooks = true});
    const std::vector<Served> served = {RequireServedByPackage("podman+runc", with_runc),
                                        RequireServedByPackage("podman+crun", with_crun)};

    // An upgrade (here a reinstall: prerm upgrade) replaces the binary
    // under the running renderers and keeps what `prochook install` wrote.
    RunResult again = Apt({"install", "--reinstall", "--no-install-recommends", package.path()});
    INFO("apt-get install --reinstall: " << again.out << again.err);
    REQUIRE(again.exit_code == 0);
    for (const char* kept : {kBinary, kHooksD, kPodmanDropIn, kRuntimeLink}) {
      INFO(kept);
      CHECK(Exists(kept));
    }
    for (const Served& s : served) CHECK(Alive(s.renderer));

    RunResult remove = Apt({"remove", "prochook"});
    INFO("apt-get remove: " << remove.out << remove.err);
    REQUIRE(remove.exit_code == 0);
    CHECK(PackageStatus().find("config-files") != std::string::npos);
    for (const char* gone : {kBinary, kHooksD, kPodmanDropIn, kRuntimeLink}) {
      INFO(gone);
      CHECK(!Exists(gone));
    }
    for (const Served& s : served) CheckStillServed(s);
    for (const Served& s : served) CheckStopsCleanly(s);
  }

  // Before purge and after it: others' containers come and go meanwhile.
  const bool others = OthersServed();
  RunResult purge = installed.Purge();
  INFO("apt-get purge: " << purge.out << purge.err);
  REQUIRE(purge.exit_code == 0);
  CHECK(PackageStatus().empty());
  CHECK(Run({"dpkg", "-L", "prochook"}).exit_code != 0);
  for (const char* gone : {kBinary, kHooksD, kPodmanDropIn, kRuntimeLink, "/usr/share/man/man8/prochook.8.gz",
                           "/usr/share/doc/prochook"}) {
    INFO(gone);
    CHECK(!Exists(gone));
  }
  CHECK(PackagedProcesses() == 0);
  if ((purge.out + purge.err).find("still served") != std::string::npos) {
    // Other prochook builds on this machine (other tests) serve containers
    // from the same store: purge keeps it, and says so.
    MESSAGE("containers of other prochook builds were served: the store stays");
    CHECK((others || OthersServed()));
    return;
  }
  CHECK(!Exists(kRunDir));
  CHECK(!Exists(kStoreDir));
  CHECK(!Exists(std::string(kRunDir) + ".lock"));
  CHECK(StoreMounts() == 0);
  CHECK(EmptyRendererCgroups() == 0);
}

TEST_CASE("the package is lintian-clean but for the overrides it ships") {
  if (SkipUnlessReady({"lintian", "dpkg-deb"})) return;
  Package package;
  RunResult r = Run({"lintian", "--pedantic", "--info", "--display-experimental", "--fail-on", "none",
                     package.path()});
  std::istringstream lines(r.out + r.err);
  std::string findings;
  for (std::string line; std::getline(lines, line);) {
    if (line.find("running with root privileges") == std::string::npos) findings += line + "\n";
  }
  CHECK_MESSAGE(findings.empty(), findings);
  CHECK(r.exit_code == 0);
}

}  // namespace prochook::e2e
