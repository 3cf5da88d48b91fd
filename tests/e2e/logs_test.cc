// What an operator learns when prochook cannot do everything: a store that
// cannot be made is explained in hook.log, and the container is still
// served from a plain directory.
#include <doctest/doctest.h>
#include <signal.h>
#include <sys/mount.h>
#include <unistd.h>

#include <filesystem>

#include "state/state_dir.h"
#include "tests/e2e/harness.h"

namespace fs = std::filesystem;
using namespace prochook::e2e;
using namespace std::chrono_literals;

namespace {

// A 1 MiB tmpfs: mkfs.xfs runs out of space on an image there. Unmounted
// (lazily if something still holds it) and removed on scope exit.
struct TinyFs {
  std::string dir;
  TinyFs() {
    char tmpl[] = "/tmp/prochook-tinyfs-XXXXXX";
    REQUIRE(::mkdtemp(tmpl) != nullptr);
    dir = tmpl;
    REQUIRE(::mount("tmpfs", dir.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, "size=1m,mode=0755") == 0);
  }
  ~TinyFs() {
    ::umount2(dir.c_str(), MNT_DETACH);
    ::rmdir(dir.c_str());
  }
};

}  // namespace

TEST_CASE("logs: a store that cannot be made is explained in hook.log, and the container is served") {
  if (SkipUnlessReady()) return;
  TinyFs tiny;
  const std::string run_dir = tiny.dir + "/run";
  Container c({.hook_command = {ProchookBinary(), "prochook", "hook", "--run-dir", run_dir}});
  REQUIRE(c.Start().exit_code == 0);
  const std::string state_dir = prochook::StateDirPath(run_dir, c.id(), c.bundle());
  // Served: the container's memory, not the host's.
  CHECK(c.Exec({"head", "-n", "1", "/proc/meminfo"}).out == "MemTotal:         262144 kB\n");
  const std::string log = ReadText(run_dir + "/hook.log");
  INFO("hook.log: " << log);
  // The image's blocks are allocated before mkfs.xfs runs (state/store.h):
  // on a filesystem too small for them, that is what fails.
  CHECK(log.find("warn: store: allocating 300 MiB for " + run_dir + ".img: No space left on device") !=
        std::string::npos);
  CHECK(log.find("files on " + run_dir + " may tear") != std::string::npos);
  REQUIRE(fs::exists(state_dir));
  CHECK(Run({ProchookBinary(), "ps", "--run-dir", run_dir}).out.rfind("store: tmpfs (updates may tear)\n", 0) == 0);

  // The renderer ends with the container and removes its state; one left
  // behind by a failure is killed so the tmpfs can go.
  const std::string pid_text = ReadText(state_dir + "/renderer.pid");
  c.Stop();
  CHECK(WaitFor(5s, [&] { return !fs::exists(state_dir); }));
  if (!pid_text.empty() && Alive(std::stoi(pid_text))) ::kill(std::stoi(pid_text), SIGKILL);
}
