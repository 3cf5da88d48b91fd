#include "state/store.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <string>
#include <vector>

#include "common/fd.h"
#include "common/log.h"
#include "common/result.h"

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

// Runs a program to completion. Its stdout and stderr do not go to ours
// (they belong to the runtime): they are captured, and on failure the
// first kToolOutputBytes of them go to the log with the exit status.
constexpr size_t kToolOutputBytes = 2048;

bool RunQuietly(const std::vector<const char*>& argv) {
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
