// A rootfs, or a racer in the container's mount namespace swapping the
// targets while the hook runs, that tries to redirect prochook's mounts.
// prochook must never mount anything outside the container's rootfs or
// over anything that is not the procfs/sysfs file it expects, and must say
// so in its log. The container still starts (fail-open), untouched.
#include <doctest/doctest.h>
#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <vector>

#include "common/mountinfo.h"
#include "tests/e2e/harness.h"

namespace fs = std::filesystem;
using namespace prochook::e2e;

namespace {

// No mount of prochook's reached the container's mount namespace
// (all-or-nothing), and its state dir is gone.
void CheckUntouched(const Container& c) {
  CHECK_FALSE(fs::exists(c.state_dir()));
  REQUIRE(c.InitPid() > 0);
  CHECK(ServedMounts(c).empty());
}

// A createRuntime hook that races prochook. It forks a racer into the
// container's mount namespace (the rootfs is not pivoted yet: it sits at its
// host path there), runs `prochook hook` with the runtime's state while the
// racer keeps swapping prochook's targets, stops the racer by pid (it undoes
// its last swap), saves the namespace's mount table as the hook left it to
// hook-end.mountinfo and exits with prochook's status.
//
// Each swap bind-mounts, for a random moment, one of: a tmpfs directory of
// planted /proc files, or of symlinks to the host's /proc files, over
// <rootfs>/proc; a planted devices/system/cpu tree, or one whose cpu is a
// symlink to the host's, over <rootfs>/sys; a planted directory over
// <rootfs>/sys/devices/system/cpu/cpu0. Binds go through open_tree and
// move_mount so that the racer still holds its mount by fd when something
// covers its mount point. Before undoing a swap the racer looks for mounts
// on its tree (prochook mounting there) and reports them in race.log as a
// VIOLATION.
constexpr const char* kRaceHook = R"py(
import ctypes, json, os, random, signal, subprocess, sys, time

libc = ctypes.CDLL(None, use_errno=True)
SYS_OPEN_TREE, SYS_MOVE_MOUNT = 428, 429  # x86_64
OPEN_TREE_CLONE, MOVE_MOUNT_F_EMPTY_PATH, AT_FDCWD = 1, 4, -100
MNT_DETACH, CLONE_NEWNS = 2, 0x20000

def ok(ret, what):
    if ret < 0:
        err = ctypes.get_errno()
        raise OSError(err, what + ": " + os.strerror(err))
    return ret

def write(path, text="planted\n"):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)

def plant(staging):
    os.makedirs(staging, exist_ok=True)
    ok(libc.mount(b"tmpfs", staging.encode(), b"tmpfs", 0, None), "mount " + staging)
    os.makedirs(staging + "/proc-links")
    for name in ["meminfo", "cpuinfo", "stat", "uptime", "loadavg", "diskstats", "swaps", "pressure", "vmstat"]:
        os.symlink("/proc/" + name, staging + "/proc-links/" + name)
        if name == "pressure":
            for p in ["cpu", "memory", "io"]:
                write(staging + "/proc-files/pressure/" + p)
        else:
            write(staging + "/proc-files/" + name, "MemTotal: 1 kB\nplanted\n")
    for e in os.scandir("/sys/devices/system/cpu"):
        path = staging + "/sys-dir/devices/system/cpu/" + e.name
        if e.is_dir(follow_symlinks=False):
            os.makedirs(path)
        else:
            write(path)
    os.makedirs(staging + "/sys-link/devices/system")
    os.symlink("/sys/devices/system/cpu", staging + "/sys-link/devices/system/cpu")
    write(staging + "/cpu-entry/planted")
    return [("proc-files", "proc"), ("proc-links", "proc"), ("sys-dir", "sys"),
            ("sys-link", "sys"), ("cpu-entry", "sys/devices/system/cpu/cpu0")]

def bind(src, target):
    fd = ok(libc.syscall(SYS_OPEN_TREE, AT_FDCWD, src.encode(), OPEN_TREE_CLONE | os.O_CLOEXEC), "open_tree " + src)
    ok(libc.syscall(SYS_MOVE_MOUNT, fd, b"", AT_FDCWD, target.encode(), MOVE_MOUNT_F_EMPTY_PATH), "move_mount " + target)
    return fd

def unbind(fd, target, log):
    with open("/proc/self/fdinfo/%d" % fd) as f:
        mine = [line.split()[1] for line in f if line.startswith("mnt_id:")][0]
    with open("/proc/self/mountinfo") as f:
        children = [line.strip() for line in f if line.split()[1] == mine]
    if children:
        log.write("VIOLATION: mounted on the racer's tree at %s: %s\n" % (target, children))
    ok(libc.umount2(b"/proc/self/fd/%d" % fd, MNT_DETACH), "umount " + target)
    os.close(fd)

def spin(seconds):
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass

def race(pid, rootfs, staging, hold, gap, seed, log, ready):
    ok(libc.setns(os.open("/proc/%d/ns/mnt" % pid, os.O_RDONLY), CLONE_NEWNS), "setns")
    swaps = [(staging + "/" + src, rootfs + "/" + dst) for src, dst in plant(staging)]
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    rng = random.Random(seed)
    os.write(ready, b"x")
    count = 0
    while not stop:
        src, target = rng.choice(swaps)
        fd = bind(src, target)
        spin(rng.uniform(0, hold))
        unbind(fd, target, log)
        count += 1
        spin(rng.uniform(0, gap))
    log.write("swaps %d\n" % count)

def main():
    prochook, hold, gap, seed = sys.argv[1], float(sys.argv[2]) / 1e6, float(sys.argv[3]) / 1e6, int(sys.argv[4])
    state_text = sys.stdin.buffer.read()
    state = json.loads(state_text)
    pid, bundle = state["pid"], state["bundle"]
    with open(bundle + "/config.json") as f:
        rootfs = os.path.realpath(os.path.join(bundle, json.load(f)["root"]["path"]))
    ready_r, ready_w = os.pipe()
    racer = os.fork()
    if racer == 0:
        # Off the runtime's pipes: runc waits for every holder to close them.
        log = open(bundle + "/race.log", "w", buffering=1)
        os.dup2(os.open("/dev/null", os.O_RDWR), 0)
        os.dup2(log.fileno(), 1)
        os.dup2(log.fileno(), 2)
        code = 0
        try:
            race(pid, rootfs, bundle + "/race-staging", hold, gap, seed, log, ready_w)
        except BaseException as e:
            log.write("ERROR %r\n" % e)
            code = 1
        log.flush()
        os._exit(code)
    with open(bundle + "/racer.pid", "w") as f:
        f.write(str(racer))
    os.close(ready_w)
    code = 1
    if os.read(ready_r, 1) == b"x":
        code = subprocess.run([prochook, "hook"], input=state_text).returncode
        os.kill(racer, signal.SIGTERM)
    for _ in range(500):
        if os.waitpid(racer, os.WNOHANG)[0] == racer:
            break
        time.sleep(0.01)
    else:
        os.kill(racer, signal.SIGKILL)
        os.waitpid(racer, 0)
    with open("/proc/%d/mountinfo" % pid) as f, open(bundle + "/hook-end.mountinfo", "w") as out:
        out.write(f.read())
    sys.exit(code)

main()
)py";

// The hook wrapper's racer, killed by the pid the wrapper wrote should the
// wrapper itself have died or hung; and the script, removed.
class RaceHook {
 public:
  RaceHook() {
    char tmpl[] = "/tmp/prochook-race-XXXXXX";
    REQUIRE(::mkdtemp(tmpl) != nullptr);
    dir_ = tmpl;
    std::ofstream(script()) << kRaceHook;
  }
  ~RaceHook() {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  std::string script() const { return dir_ + "/race_hook.py"; }
  // The createRuntime hook: the racer holds each bind up to hold_us and
  // leaves the targets alone up to gap_us between binds.
  std::vector<std::string> Command(int hold_us, int gap_us, int seed) const {
    return {"/usr/bin/python3", "python3", script(), ProchookBinary(),
            std::to_string(hold_us), std::to_string(gap_us), std::to_string(seed)};
  }
  void KillRacer(const Container& c) const {
    int pid = 0;
    std::istringstream(ReadText(c.bundle() + "/racer.pid")) >> pid;
    const std::string proc = "/proc/" + std::to_string(pid);
    if (pid > 0 && ReadText(proc + "/cmdline").find(script()) != std::string::npos) ::kill(pid, SIGKILL);
  }

 private:
  std::string dir_;
};

// Tells prochook's mounts for one container from others in mountinfo:
// files of its state directory, on the store's filesystem.
class StoreFiles {
 public:
  explicit StoreFiles(const std::string& state_dir) {
    const std::string store = fs::path(state_dir).parent_path().string();
    const prochook::MountInfo holder = HostMountHolding(store);
    REQUIRE(!holder.fs_type.empty());
    fs_type_ = holder.fs_type;
    source_ = holder.source;
    const std::string below = store.substr(holder.mount_point == "/" ? 0 : holder.mount_point.size());
    prefix_ = (holder.root == "/" ? "" : holder.root) + below + "/" + fs::path(state_dir).filename().string() + "/";
  }
  bool Holds(const prochook::MountInfo& m) const {
    return m.fs_type == fs_type_ && m.source == source_ && m.root.rfind(prefix_, 0) == 0;
  }

 private:
  std::string fs_type_, source_, prefix_;
};

// prochook's mounts in one mount table, and the original entries mounted
// on them (its CPU view keeps them).
struct Placement {
  std::vector<std::string> mounts;
  std::set<std::string> kept;
};

// Checks where prochook's mounts sit in one mount table, whose container
// rootfs is at `root` ("" once pivoted): each on the container's procfs at
// root/proc or on its sysfs at root/sys, with only original sysfs CPU
// entries mounted on them.
Placement CheckPlacement(const std::string& mountinfo, const StoreFiles& ours, const std::string& root) {
  std::map<int, prochook::MountInfo> mounts;
  for (auto& m : prochook::ParseMountinfo(mountinfo)) mounts[m.mount_id] = m;
  Placement found;
  for (const auto& [mount_id, m] : mounts) {
    const auto parent = mounts.find(m.parent_id);
    INFO("mount " << m.mount_point << " (" << m.fs_type << " " << m.root << ")");
    if (ours.Holds(m)) {
      found.mounts.push_back(m.mount_point);
      REQUIRE(parent != mounts.end());
      const prochook::MountInfo& p = parent->second;
      INFO("on " << p.mount_point << " (" << p.fs_type << ")");
      const bool on_procfs = p.fs_type == "proc" && p.mount_point == root + "/proc" &&
                             m.mount_point.rfind(root + "/proc/", 0) == 0;
      // The CPU directory, or a block device's stat file (sys-block).
      const bool on_sysfs = p.fs_type == "sysfs" && p.mount_point == root + "/sys" &&
                            (m.mount_point == root + "/sys/devices/system/cpu" ||
                             std::regex_match(m.mount_point, std::regex(root + "/sys/devices/.+/block/.+/stat")));
      CHECK((on_procfs || on_sysfs));
    } else if (parent != mounts.end() && ours.Holds(parent->second)) {
      found.kept.insert(m.mount_point);
      CHECK(m.fs_type == "sysfs");
      CHECK(m.root.rfind("/devices/system/cpu/", 0) == 0);
    }
  }
  return found;
}

// Where a served container's CPU view keeps original entries: on each
// placeholder (an empty directory or file) of its sys-cpu directory.
std::set<std::string> KeptEntries(const Container& c, const std::string& root) {
  std::set<std::string> kept;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(c.state_dir() + "/sys-cpu", ec)) {
    if (e.is_directory() || (e.is_regular_file() && e.file_size() == 0)) {
      kept.insert(root + "/sys/devices/system/cpu/" + e.path().filename().string());
    }
  }
  return kept;
}

// What follows `key` on its line, or "".
std::string AfterOnLine(const std::string& text, const std::string& key) {
  const size_t at = text.find(key);
  if (at == std::string::npos) return "";
  const size_t from = at + key.size();
  return text.substr(from, text.find('\n', from) - from);
}

// The number in the hook's "serving N file(s)", or 0.
size_t ServedFiles(const std::string& log) {
  const std::string n = AfterOnLine(log, ": serving ");
  return n.empty() ? 0 : std::stoul(n);
}

}  // namespace

TEST_CASE("attacks: /sys is not sysfs (no sysfs mount) and holds a planted devices/system/cpu") {
  if (SkipUnlessReady()) return;
  // runc needs procfs at /proc to start at all; /sys is the container's to
  // choose. A planted CPU directory on tmpfs must not be taken for sysfs.
  Container c({.drop_mounts = {"/sys"}, .rootfs_entries = {{"sys/devices/system/cpu/online", "0-63\n"}}});
  RunResult start = c.Start();
  REQUIRE_MESSAGE(start.exit_code == 0, "runc run: " << start.err);
  const std::string log = HookLogFor(c.id());
  INFO("hook log:\n" << log);
  CHECK(log.find("policy fail-open") != std::string::npos);
  CHECK(log.find("sys/devices/system/cpu is not a sysfs directory") != std::string::npos);
  CHECK(c.Exec({"cat", "/sys/devices/system/cpu/online"}).out == "0-63\n");
  CheckUntouched(c);
}

TEST_CASE("attacks: sys/devices/system/cpu is a symlink; nothing is mounted, not even /proc files") {
  if (SkipUnlessReady()) return;
  Container c({.drop_mounts = {"/sys"}, .rootfs_entries = {{"sys/devices/system/cpu", "->/proc"}}});
  RunResult start = c.Start();
  REQUIRE_MESSAGE(start.exit_code == 0, "runc run: " << start.err);
  const std::string log = HookLogFor(c.id());
  INFO("hook log:\n" << log);
  CHECK(log.find("policy fail-open") != std::string::npos);
  CHECK(log.find("resolve sys/devices/system/cpu in the rootfs") != std::string::npos);
  // All or nothing: /proc/meminfo stayed the kernel's.
  CHECK(c.Exec({"head", "-n", "1", "/proc/meminfo"}).out ==
        ReadText("/proc/meminfo").substr(0, ReadText("/proc/meminfo").find('\n') + 1));
  CheckUntouched(c);
}

TEST_CASE("attacks: targets swapped while the hook mounts (race): nothing lands off the container's procfs/sysfs") {
  if (SkipUnlessReady({"/usr/bin/python3"})) return;
  RaceHook hook;
  const std::string host_meminfo = ReadText("/proc/meminfo");
  const std::string host_memtotal = host_meminfo.substr(0, host_meminfo.find('\n') + 1);
  constexpr int kContainers = 32;
  int served = 0;
  long swaps = 0;
  std::map<std::string, int> declined;  // reason -> containers
  std::string outcomes;                 // per container: S served, D declined
  for (int i = 0; i < kContainers; ++i) {
    // From a racer that mostly leaves the targets alone to one that mostly
    // holds a swap, so the hook meets every state at every step.
    const int hold_us = 20 + 200 * i;
    const int gap_us = 20 + 20 * (kContainers - 1 - i);
    CAPTURE(i);
    Container c({.hook_command = hook.Command(hold_us, gap_us, i)});
    struct Reap {
      const RaceHook& hook;
      const Container& c;
      ~Reap() { hook.KillRacer(c); }
    } reap{hook, c};
    RunResult start = c.Start();
    const std::string race_log = ReadText(c.bundle() + "/race.log");
    const std::string log = HookLogFor(c.id());
    INFO("race.log:\n" << race_log);
    INFO("hook log:\n" << log);
    REQUIRE_MESSAGE(start.exit_code == 0, "runc run: " << start.err);
    CHECK(race_log.find("VIOLATION") == std::string::npos);
    CHECK(race_log.find("ERROR") == std::string::npos);
    REQUIRE(race_log.find("swaps ") != std::string::npos);
    swaps += std::stol(AfterOnLine(race_log, "swaps "));

    const size_t files = ServedFiles(log);
    const std::string reason = AfterOnLine(log, "container starts without prochook (policy fail-open): ");
    CHECK(((files > 0) != !reason.empty()));  // exactly one: served, or declined saying why
    outcomes += files > 0 ? 'S' : 'D';
    if (files > 0) {
      ++served;
    } else {
      ++declined[reason];
      CHECK_FALSE(fs::exists(c.state_dir()));
    }
    // All or nothing, and never off the container's own procfs/sysfs:
    // in the namespace as the hook left it, and in the started container.
    const StoreFiles ours(c.state_dir());
    const std::string rootfs = fs::canonical(c.bundle() + "/rootfs").string();
    for (const auto& [where, root] : {std::pair{c.bundle() + "/hook-end.mountinfo", rootfs},
                                      {"/proc/" + std::to_string(c.InitPid()) + "/mountinfo", ""}}) {
      const Placement found = CheckPlacement(ReadText(where), ours, root);
      std::ostringstream list;
      for (const std::string& m : found.mounts) list << " " << m;
      CHECK_MESSAGE(found.mounts.size() == files, where << ": prochook mounts:" << list.str());
      CHECK_MESSAGE((found.kept == (files > 0 ? KeptEntries(c, root) : std::set<std::string>{})),
                    where << ": original CPU entries kept: " << found.kept.size());
    }
    // Neither prochook's mounts nor the racer's reached the host.
    for (const auto& m : prochook::ParseMountinfo(ReadText("/proc/self/mountinfo"))) {
      INFO("host mount " << m.mount_point);
      CHECK_FALSE(ours.Holds(m));
      CHECK(m.mount_point.rfind(c.bundle(), 0) != 0);
    }
    // What the container reads is prochook's (the 256 MiB limit) or the kernel's, never the racer's.
    CHECK(c.Exec({"head", "-n", "1", "/proc/meminfo"}).out ==
          (files > 0 ? "MemTotal:         262144 kB\n" : host_memtotal));
  }
  std::ostringstream why;
  int refused = 0;
  for (const auto& [reason, n] : declined) {
    why << "\n  " << n << "x " << reason;
    refused += n;
  }
  MESSAGE("race: " << kContainers << " containers, " << swaps << " swaps; prochook served " << served
                   << ", declined " << refused << " (" << outcomes << ", the racer holding its swaps "
                   << "longer from left to right):" << why.str());
  // Both paths taken, or the race tested nothing.
  CHECK(served > 0);
  CHECK(refused > 0);
}
