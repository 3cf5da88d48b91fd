// ApplyMounts against processes of the test's own, each in a private mount
// namespace with a tmpfs "rootfs": which namespace it enters, and what its
// rollback leaves. Needs root (mount namespaces, open_tree, clone3 set_tid).
#include <doctest/doctest.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "common/fd.h"
#include "hook/inject.h"
#include "tests/testing.h"

using namespace prochook;
using prochook::testing::TempDir;

namespace {

bool SkipUnlessRoot() { return geteuid() != 0 && prochook::testing::SkipOrFailInCi("needs root (mount namespaces)"); }

std::string Slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A child in its own mount namespace (private, so nothing reaches the
// test's) with a tmpfs on `rootfs` holding the files "a" and "b"
// ("original"). It waits until killed; killed and reaped on scope exit.
// With set_tid, it gets that pid (clone3(2): root may choose it).
class NamespacedChild {
 public:
  explicit NamespacedChild(const std::string& rootfs, pid_t set_tid = 0) {
    int ready[2];
    REQUIRE(::pipe2(ready, O_CLOEXEC) == 0);
    struct clone_args args = {};
    args.exit_signal = SIGCHLD;
    if (set_tid != 0) {
      args.set_tid = reinterpret_cast<uint64_t>(&set_tid);
      args.set_tid_size = 1;
    }
    pid_ = static_cast<pid_t>(::syscall(SYS_clone3, &args, sizeof args));
    if (pid_ == 0) {
      ::close(ready[0]);
      const bool ok = ::unshare(CLONE_NEWNS) == 0 &&
                      ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) == 0 &&
                      ::mount("tmpfs", rootfs.c_str(), "tmpfs", 0, "size=1m") == 0;
      for (const char* name : {"a", "b"}) {
        const std::string path = rootfs + "/" + name;
        int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        if (fd < 0 || ::write(fd, "original\n", 9) != 9) _exit(1);
        ::close(fd);
      }
      if (!ok || ::write(ready[1], "x", 1) != 1) _exit(1);
      for (;;) ::pause();
    }
    ::close(ready[1]);
    char c = 0;
    const bool started = pid_ > 0 && ::read(ready[0], &c, 1) == 1;
    ::close(ready[0]);
    const int clone_errno = pid_ < 0 ? errno : 0;
    if (started) pidfd_ = UniqueFd(static_cast<int>(::syscall(SYS_pidfd_open, pid_, 0)));
    if (!pidfd_.valid()) Kill();  // a constructor that throws runs no destructor
    REQUIRE_MESSAGE(started, "the namespaced child did not start (clone3 errno " << clone_errno << ")");
    REQUIRE(pidfd_.valid());
  }
  ~NamespacedChild() { Kill(); }
  void Kill() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }
  pid_t pid() const { return pid_; }
  int pidfd() const { return pidfd_.get(); }
  // A file of its rootfs as it sees it.
  std::string Read(const std::string& rootfs, const std::string& name) const {
    return Slurp("/proc/" + std::to_string(pid_) + "/root" + rootfs + "/" + name);
  }

 private:
  pid_t pid_ = -1;
  UniqueFd pidfd_;
};

// A temporary directory with the file to mount ("ours") and the mount
// point of a child's rootfs.
struct Fixture {
  TempDir t;
  std::string rootfs = t.path() + "/rootfs";
  Fixture() { t.Write({{"ours", "ours\n"}, {"rootfs/.keep", ""}}); }
  // A plan that mounts "ours" on `target`, which must be on `magic`.
  MountPlan Plan(const std::string& target, unsigned long magic = TMPFS_MAGIC) const {
    return {t.path() + "/ours", target, magic};
  }
};

}  // namespace

TEST_CASE("ApplyMounts mounts into the namespace of the process its pidfd names") {
  if (SkipUnlessRoot()) return;
  Fixture f;
  const std::string& rootfs = f.rootfs;
  NamespacedChild child(rootfs);
  bool left = false;
  auto r = ApplyMounts(child.pidfd(), rootfs, {f.Plan("a")}, &left);
  REQUIRE_MESSAGE(r.ok(), r.error().message());
  CHECK(left);
  CHECK(child.Read(rootfs, "a") == "ours\n");
  CHECK(Slurp(rootfs + "/a").empty());  // the test's own namespace is untouched
}

TEST_CASE("ApplyMounts refuses the pidfd of an exited process, even when its pid names another now") {
  if (SkipUnlessRoot()) return;
  Fixture f;
  const std::string& rootfs = f.rootfs;
  NamespacedChild init(rootfs);
  const pid_t pid = init.pid();
  UniqueFd pidfd(::fcntl(init.pidfd(), F_DUPFD_CLOEXEC, 0));
  init.Kill();
  // The init's pid, reused by an unrelated process (in a namespace of its
  // own, so a wrong mount stays there and shows).
  NamespacedChild reuser(rootfs, pid);
  REQUIRE(reuser.pid() == pid);
  bool left = true;
  auto r = ApplyMounts(pidfd.get(), rootfs, {f.Plan("a")}, &left);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().err() == ESRCH);
  CHECK_FALSE(left);
  CHECK(reuser.Read(rootfs, "a") == "original\n");
}

TEST_CASE("ApplyMounts: a refusal after a mount detaches it again and says nothing remains") {
  if (SkipUnlessRoot()) return;
  Fixture f;
  const std::string& rootfs = f.rootfs;
  NamespacedChild child(rootfs);
  bool left = true;
  // "b" is on tmpfs, not the procfs its plan asks for: refused after "a" was mounted.
  auto r = ApplyMounts(child.pidfd(), rootfs,
                       {f.Plan("a"), f.Plan("b", PROC_SUPER_MAGIC)}, &left);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message().find("b is not a procfs file") != std::string::npos);
  CHECK_FALSE(left);
  CHECK(child.Read(rootfs, "a") == "original\n");
}

TEST_CASE("ApplyMounts skips a missing target marked skip_if_missing, and still refuses one on the wrong filesystem") {
  if (SkipUnlessRoot()) return;
  Fixture f;
  const std::string& rootfs = f.rootfs;
  NamespacedChild child(rootfs);
  bool left = false;
  MountPlan gone = f.Plan("sys/devices/virtual/block/loop9/stat", SYSFS_MAGIC);
  gone.skip_if_missing = true;
  auto r = ApplyMounts(child.pidfd(), rootfs, {gone, f.Plan("a")}, &left);
  REQUIRE_MESSAGE(r.ok(), r.error().message());
  CHECK(*r == 1);  // what the hook logs as served
  CHECK(child.Read(rootfs, "a") == "ours\n");

  // "b" exists, on tmpfs: refused like any target, and "a" undone.
  NamespacedChild other(rootfs);
  MountPlan wrong = f.Plan("b", SYSFS_MAGIC);
  wrong.skip_if_missing = true;
  r = ApplyMounts(other.pidfd(), rootfs, {f.Plan("a"), wrong}, &left);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message().find("b is not a sysfs file") != std::string::npos);
  CHECK_FALSE(left);
  CHECK(other.Read(rootfs, "a") == "original\n");
}
