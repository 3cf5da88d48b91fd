#include "state/store.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <vector>

#include "common/fd.h"
#include "common/log.h"

namespace prochook {
namespace {

// Enough for every container's few small files (sparse: only what is
// written takes memory); mkfs.xfs wants at least 300 MB.
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

// Runs a program to completion with stdio on /dev/null: the hook's own
// stdout and stderr belong to the runtime.
bool RunQuietly(const std::vector<const char*>& argv) {
  pid_t pid = ::fork();
  if (pid < 0) return false;
  if (pid == 0) {
    int null = ::open("/dev/null", O_RDWR);
    for (int fd = 0; fd < 3; ++fd) ::dup2(null, fd);
    std::vector<char*> args;
    for (const char* a : argv) args.push_back(const_cast<char*>(a));
    args.push_back(nullptr);
    ::execv(argv[0], args.data());
    _exit(127);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

const char* FindTool(std::initializer_list<const char*> candidates) {
  for (const char* c : candidates) {
    if (::access(c, X_OK) == 0) return c;
  }
  return nullptr;
}

}  // namespace

StoreKind EnsureStore(const std::string& run_dir) {
  if (FsMagic(run_dir) == XFS_SUPER_MAGIC) return StoreKind::kXfs;
  UniqueFd lock(::open((run_dir + ".lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (!lock.valid() || ::flock(lock.get(), LOCK_EX) != 0) {
    LOG_WARN("store: cannot lock %s.lock; files stay on %s and may tear", run_dir.c_str(), run_dir.c_str());
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
  const std::string image = run_dir + ".img";
  ::mkdir(run_dir.c_str(), 0700);
  {
    UniqueFd img(::open(image.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600));
    if (!img.valid() || ::ftruncate(img.get(), kImageBytes) != 0) {
      LOG_WARN("store: cannot create %s; files may tear", image.c_str());
      return StoreKind::kPlain;
    }
  }
  if (!RunQuietly({mkfs, "-q", "-f", image.c_str()}) ||
      !RunQuietly({mount, "-o", "loop,nosuid,nodev,noexec", image.c_str(), run_dir.c_str()})) {
    ::unlink(image.c_str());
    LOG_WARN("store: cannot make an XFS store at %s (loop devices?); files may tear", run_dir.c_str());
    return StoreKind::kPlain;
  }
  ::chmod(run_dir.c_str(), 0700);
  LOG_INFO("store: %s is an XFS filesystem on %s (tear-free updates)", run_dir.c_str(), image.c_str());
  return StoreKind::kXfs;
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
