#include "state/store.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <sched.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "common/fd.h"
#include "common/log.h"
#include "common/result.h"
#include "state/record.h"

namespace prochook {
namespace {

// mkfs.xfs wants at least 300 MB; every container's few small files need
// far less, so this is also the store's capacity.
constexpr off_t kImageBytes = 300ll << 20;

long FsMagic(const std::string& path) {
  struct statfs st;
  return ::statfs(path.c_str(), &st) == 0 ? static_cast<long>(st.f_type) : 0;
}

// A directory holding any subdirectory is in use: mounting over it would
// hide running containers' state.
bool HoldsDirectories(const std::string& dir) {
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return false;
  bool found = false;
  while (struct dirent* e = ::readdir(d)) {
    const std::string name = e->d_name;
    if (name != "." && name != ".." && e->d_type == DT_DIR) found = true;
  }
  ::closedir(d);
  return found;
}

// Whether this process's mount namespace is the host's (pid 1's).
bool InHostMountNamespace() {
  struct stat self, host;
  if (::stat("/proc/self/ns/mnt", &self) != 0 || ::stat("/proc/1/ns/mnt", &host) != 0) return true;
  return self.st_ino == host.st_ino && self.st_dev == host.st_dev;
}

// Runs a program to completion, in the host's mount namespace when asked:
// the store is mounted there, so every engine's hooks, in whatever
// namespace they run, share it and it outlives them. Its stdout and stderr
// do not go to ours (they belong to the runtime): they are captured, and on
// failure the first kToolOutputBytes of them go to the log with the exit
// status.
constexpr size_t kToolOutputBytes = 2048;

bool RunTool(const std::vector<const char*>& argv, bool enter_host_ns) {
  int out[2];
  if (::pipe2(out, O_CLOEXEC) != 0) {
    LOG_WARN("store: %s", Error::Sys(std::string("pipe for ") + argv[0]).message().c_str());
    return false;
  }
  pid_t pid = ::fork();
  if (pid == 0) {
    int null = ::open("/dev/null", O_RDWR);
    ::dup2(null, 0);
    ::dup2(out[1], 1);
    ::dup2(out[1], 2);
    if (enter_host_ns) {
      int ns = ::open("/proc/1/ns/mnt", O_RDONLY | O_CLOEXEC);
      if (ns < 0 || ::setns(ns, CLONE_NEWNS) != 0) {
        dprintf(2, "cannot enter the host's mount namespace: %s", strerror(errno));
        _exit(126);
      }
    }
    std::vector<char*> args;
    for (const char* a : argv) args.push_back(const_cast<char*>(a));
    args.push_back(nullptr);
    ::execv(argv[0], args.data());
    _exit(127);
  }
  ::close(out[1]);
  if (pid < 0) {
    LOG_WARN("store: %s", Error::Sys(std::string("fork for ") + argv[0]).message().c_str());
    ::close(out[0]);
    return false;
  }
  std::string text;
  char buf[512];
  for (ssize_t n; (n = ::read(out[0], buf, sizeof buf)) != 0;) {
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) break;
    text.append(buf, std::min(static_cast<size_t>(n), kToolOutputBytes - std::min(kToolOutputBytes, text.size())));
  }
  ::close(out[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return true;
  const std::string how = WIFEXITED(status) ? "exited " + std::to_string(WEXITSTATUS(status))
                                            : "was killed by signal " + std::to_string(WTERMSIG(status));
  std::replace(text.begin(), text.end(), '\n', ' ');
  while (!text.empty() && text.back() == ' ') text.pop_back();
  LOG_WARN("store: %s %s: %s", argv[0], how.c_str(), text.empty() ? "(no output)" : text.c_str());
  return false;
}

const char* FindTool(std::initializer_list<const char*> candidates) {
  for (const char* c : candidates) {
    if (::access(c, X_OK) == 0) return c;
  }
  return nullptr;
}

// The store's lock, next to the run directory (held while it is made or
// removed).
Result<UniqueFd> LockStore(const std::string& run_dir) {
  const std::string path = run_dir + ".lock";
  UniqueFd lock(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (!lock.valid()) return Error::Sys("open " + path);
  if (::flock(lock.get(), LOCK_EX) != 0) return Error::Sys("lock " + path);
  return lock;
}

// Creates the image with every block allocated. Refuses to reuse a file
// that is open elsewhere or mounted: O_TRUNC of a mounted image would be
// fatal, and a mounted store is found by FsMagic before we get here.
Result<> CreateImage(const std::string& image) {
  const std::string parent = image.substr(0, image.rfind('/'));
  if (!parent.empty() && ::mkdir(parent.c_str(), 0700) != 0 && errno != EEXIST) {
    return Error::Sys("mkdir " + parent);
  }
  UniqueFd img(::open(image.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (!img.valid()) return Error::Sys("create " + image);
  // posix_fallocate writes a byte per block where fallocate(2) is missing.
  if (int err = ::posix_fallocate(img.get(), 0, kImageBytes); err != 0) {
    errno = err;
    Error e = Error::Sys("allocating " + std::to_string(kImageBytes >> 20) + " MiB for " + image);
    ::unlink(image.c_str());
    return e;
  }
  return Ok{};
}

}  // namespace

std::string StoreImagePath(const std::string& run_dir) {
  return run_dir == kDefaultRunDir ? std::string(kDefaultStoreImage) : run_dir + ".img";
}

StoreKind EnsureStore(const std::string& run_dir) {
  if (FsMagic(run_dir) == XFS_SUPER_MAGIC) return StoreKind::kXfs;
  auto lock = LockStore(run_dir);
  if (!lock) {
    LOG_WARN("store: %s; files stay on %s and may tear", lock.error().message().c_str(), run_dir.c_str());
    return StoreKind::kPlain;
  }
  if (FsMagic(run_dir) == XFS_SUPER_MAGIC) return StoreKind::kXfs;  // another hook made it
  if (HoldsDirectories(run_dir)) return StoreKind::kPlain;         // in use: keep it as it is

  const char* mkfs = FindTool({"/usr/sbin/mkfs.xfs", "/sbin/mkfs.xfs"});
  const char* mount = FindTool({"/usr/bin/mount", "/bin/mount"});
  if (mkfs == nullptr || mount == nullptr) {
    LOG_WARN("store: mkfs.xfs or mount missing (install xfsprogs); files on %s may tear", run_dir.c_str());
    return StoreKind::kPlain;
  }
  const std::string image = StoreImagePath(run_dir);
  if (auto made = CreateImage(image); !made) {
    LOG_WARN("store: %s; files on %s may tear", made.error().message().c_str(), run_dir.c_str());
    return StoreKind::kPlain;
  }
  ::mkdir(run_dir.c_str(), 0700);
  const bool enter_host_ns = !InHostMountNamespace();
  if (!RunTool({mkfs, "-q", "-f", image.c_str()}, false) ||
      !RunTool({mount, "-o", "loop,nosuid,nodev,noexec", image.c_str(), run_dir.c_str()}, enter_host_ns)) {
    ::unlink(image.c_str());
    LOG_WARN("store: cannot make an XFS store at %s (loop devices?); files may tear", run_dir.c_str());
    return StoreKind::kPlain;
  }
  if (FsMagic(run_dir) != XFS_SUPER_MAGIC) {
    // Mounted in the host's namespace, which this one does not receive
    // mounts from (a private mount namespace of the engine's).
    LOG_WARN("store: mounted at %s in the host's mount namespace, not seen in this one; files here may tear",
             run_dir.c_str());
    return StoreKind::kPlain;
  }
  ::chmod(run_dir.c_str(), 0700);
  LOG_INFO("store: %s is an XFS filesystem on %s (tear-free updates)", run_dir.c_str(), image.c_str());
  return StoreKind::kXfs;
}

namespace {

Result<uint64_t> FreeBytes(const std::string& run_dir, bool* xfs) {
  struct statfs st;
  if (::statfs(run_dir.c_str(), &st) != 0) return Error::Sys("statfs " + run_dir);
  *xfs = static_cast<long>(st.f_type) == XFS_SUPER_MAGIC;
  return static_cast<uint64_t>(st.f_bavail) * static_cast<uint64_t>(st.f_bsize);
}

}  // namespace

Result<> CheckStoreRoom(const std::string& run_dir) {
  bool xfs = false;
  TRY_ASSIGN(uint64_t free_bytes, FreeBytes(run_dir, &xfs), "store");
  if (!xfs) return Ok{};
  if (free_bytes < kStoreReserve) {
    // XFS counts as used the worst case its dirty, not yet written, blocks
    // may need (delayed allocation): for files rewritten every interval
    // about 600 KiB a container until the flusher writes them, so 500
    // containers seemed to fill the store. Writing them back first frees
    // that; only what is really used is held against a new container.
    UniqueFd dir(::open(run_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (dir.valid()) ::syncfs(dir.get());
    TRY_ASSIGN(free_bytes, FreeBytes(run_dir, &xfs), "store");
  }
  if (free_bytes < kStoreReserve) {
    return Error::Msg("the store at " + run_dir + " has " + std::to_string(free_bytes >> 10) +
                      " KiB free, under the " + std::to_string(kStoreReserve >> 20) +
                      " MiB kept for the containers it serves");
  }
  return Ok{};
}

Result<bool> RemoveStore(const std::string& run_dir) {
  if (FsMagic(run_dir) != XFS_SUPER_MAGIC) return false;
  TRY_ASSIGN(UniqueFd lock, LockStore(run_dir), "store");
  if (HoldsDirectories(run_dir)) {
    return Error::Msg("containers are still served from " + run_dir + " (prochook ps); the store stays");
  }
  const char* umount = FindTool({"/usr/bin/umount", "/bin/umount"});
  if (umount == nullptr) return Error::Msg("umount missing");
  // The loop device was set up by mount -o loop, which marks it
  // autoclear: unmounting detaches it too.
  if (!RunTool({umount, run_dir.c_str()}, !InHostMountNamespace())) {
    return Error::Msg("umount " + run_dir + " failed");
  }
  const std::string image = StoreImagePath(run_dir);
  if (::unlink(image.c_str()) != 0 && errno != ENOENT) return Error::Sys("unlink " + image);
  return true;
}

std::string DescribeStore(const std::string& run_dir) {
  switch (FsMagic(run_dir)) {
    case XFS_SUPER_MAGIC: return "xfs (tear-free)";
    case TMPFS_MAGIC: return "tmpfs (updates may tear)";
    case EXT4_SUPER_MAGIC: return "ext4 (updates may tear)";
    default: return "plain (updates may tear)";
  }
}

}  // namespace prochook
