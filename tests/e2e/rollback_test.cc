// All or nothing, when "nothing" cannot be had: a mount that the rollback
// cannot detach must not be left frozen. The state and the renderer stay,
// keeping it fresh until the container exits, and the log says so.
#include <doctest/doctest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "tests/e2e/harness.h"

namespace fs = std::filesystem;
using namespace prochook::e2e;
using namespace std::chrono_literals;

namespace {

// A createRuntime hook that runs `prochook hook` while the container's
// mount namespace (not pivoted yet: the host's tree with the rootfs at its
// host path) has a tmpfs over /proc that holds only thread-self/mountinfo,
// a copy of the real one. prochook's mount helper reads its mount table
// from there and mounts the /proc files; the /sys target then fails its
// check (no sysfs), and the rollback cannot detach the mounts through
// /proc/self/fd. The hook restores /proc before runc goes on.
constexpr const char* kNoProcSelfHook = R"py(
import ctypes, json, os, subprocess, sys

libc = ctypes.CDLL(None, use_errno=True)
CLONE_NEWNS, MNT_DETACH = 0x20000, 2

def in_namespace(pid, fn):
    child = os.fork()
    if child == 0:
        code = 1
        try:
            if libc.setns(os.open("/proc/%d/ns/mnt" % pid, os.O_RDONLY), CLONE_NEWNS) != 0:
                raise OSError(ctypes.get_errno(), "setns")
            fn()
            code = 0
        finally:
            os._exit(code)
    return os.waitpid(child, 0)[1] == 0

def cover_proc():
    with open("/proc/thread-self/mountinfo") as f:
        mountinfo = f.read()
    if libc.mount(b"tmpfs", b"/proc", b"tmpfs", 0, None) != 0:
        raise OSError(ctypes.get_errno(), "mount tmpfs on /proc")
    os.makedirs("/proc/thread-self")
    with open("/proc/thread-self/mountinfo", "w") as f:
        f.write(mountinfo)

def uncover_proc():
    if libc.umount2(b"/proc", MNT_DETACH) != 0:
        raise OSError(ctypes.get_errno(), "umount /proc")

state_text = sys.stdin.buffer.read()
pid = json.loads(state_text)["pid"]
if not in_namespace(pid, cover_proc):
    sys.exit(1)
code = subprocess.run([sys.argv[1], "hook"], input=state_text).returncode
sys.exit(code if in_namespace(pid, uncover_proc) else 1)
)py";

uint64_t MemFree(const Container& c) { return MeminfoFields(c.Exec({"cat", "/proc/meminfo"}).out)["MemFree"]; }

}  // namespace

TEST_CASE("rollback: mounts the rollback cannot detach keep their state and a live renderer") {
  if (SkipUnlessReady({"/usr/bin/python3"})) return;
  const std::string script =
      (fs::temp_directory_path() / ("prochook-rollback-" + std::to_string(::getpid()) + ".py")).string();
  std::ofstream(script) << kNoProcSelfHook;
  struct Remove {
    std::string path;
    ~Remove() { fs::remove(path); }
  } remove{script};
  // /sys is not sysfs: the CPU view (mounted last) is refused after the
  // /proc files were mounted.
  Container c({.hook_command = {"/usr/bin/python3", "python3", script, ProchookBinary()},
               .annotations = {{"io.prochook.interval", "250ms"}},
               .drop_mounts = {"/sys"},
               .rootfs_entries = {{"sys/devices/system/cpu/online", "0-63\n"}}});
  RunResult start = c.Start();
  REQUIRE_MESSAGE(start.exit_code == 0, "runc run: " << start.err);
  const std::string log = HookLogFor(c.id());
  INFO("hook log:\n" << log);
  REQUIRE(log.find("sys/devices/system/cpu is not a sysfs directory") != std::string::npos);
  CHECK(log.find("some mounts remain (the rollback failed: umount proc/") != std::string::npos);
  CHECK(log.find("container starts with some of prochook's files, kept fresh (policy fail-open)") !=
        std::string::npos);

  // The /proc files stayed mounted: served, with the container's limit...
  CHECK(MeminfoFields(c.Exec({"cat", "/proc/meminfo"}).out)["MemTotal"] == 262144);
  CHECK(c.Exec({"cat", "/sys/devices/system/cpu/online"}).out == "0-63\n");
  // ...and kept fresh: the state and its renderer are still there.
  CHECK(log.find("keeping " + c.state_dir() + " and its renderer (" + std::to_string(RendererPid(c)) + ")") !=
        std::string::npos);
  REQUIRE(fs::exists(c.state_dir() + "/state.json"));
  const int renderer = RendererPid(c);
  CHECK(Alive(renderer));
  const uint64_t before = MemFree(c);
  REQUIRE(c.Exec({"dd", "if=/dev/zero", "of=/tmp/fill", "bs=1M", "count=64"}).exit_code == 0);
  CHECK(WaitFor(3s, [&] { return before - std::min(before, MemFree(c)) >= 60 * 1024; }));

  // Cleaned up with the container.
  c.Stop();
  CHECK(WaitFor(10s, [&] { return !fs::exists(c.state_dir()) && !Alive(renderer); }));
}
