#include "state/state_dir.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdio>

#include "common/fd.h"
#include "common/io.h"
#include "common/proc.h"
#include "common/text.h"
#include "state/record.h"

namespace prochook {

uint64_t StableHash(std::string_view data) {
  uint64_t h = 0xcbf29ce484222325ull;  // the FNV-1a 64-bit offset basis and prime
  for (unsigned char c : data) {
    h ^= c;
    h *= 0x100000001b3ull;
  }
  return h;
}

std::string StateDirName(const std::string& id, const std::string& bundle) {
  char hash[17];
  snprintf(hash, sizeof hash, "%016llx",
           static_cast<unsigned long long>(StableHash(bundle + std::string(1, '\0') + id)));
  return id.substr(0, kMaxIdInName) + "." + hash;
}

std::string StateDirPath(const std::string& run_dir, const std::string& id, const std::string& bundle) {
  return run_dir + "/" + StateDirName(id, bundle);
}

Result<> CreateStateDir(const std::string& run_dir, const std::string& dir) {
  if (::mkdir(run_dir.c_str(), 0700) != 0 && errno != EEXIST) return Error::Sys("mkdir " + run_dir);
  if (::mkdir(dir.c_str(), 0700) != 0) return Error::Sys("mkdir " + dir);
  return Ok{};
}

namespace {

// Empties a directory prochook made: files, and subdirectories (the /sys
// CPU view) up to `depth` levels. Never follows a symlink.
Result<> EmptyDir(int fd, const std::string& path, int depth) {
  DIR* d = ::fdopendir(::dup(fd));
  if (d == nullptr) return Error::Sys("opendir " + path);
  Result<> result = Ok{};
  while (struct dirent* e = ::readdir(d)) {
    std::string name = e->d_name;
    if (name == "." || name == "..") continue;
    if (::unlinkat(fd, name.c_str(), 0) == 0 || errno == ENOENT) continue;
    if (errno == EISDIR && depth > 0) {
      UniqueFd sub(::openat(fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      if (sub.valid()) {
        if (auto r = EmptyDir(sub.get(), path + "/" + name, depth - 1); !r) result = r;
      }
      if (::unlinkat(fd, name.c_str(), AT_REMOVEDIR) == 0 || errno == ENOENT) continue;
    }
    result = Error::Sys("remove " + path + "/" + name);
  }
  ::closedir(d);
  return result;
}

}  // namespace

Result<> RemoveStateDir(const std::string& dir) {
  UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd.valid()) {
    if (errno == ENOENT) return Ok{};
    return Error::Sys("open " + dir);
  }
  TRY(EmptyDir(fd.get(), dir, 2), "state directory");
  if (::rmdir(dir.c_str()) != 0 && errno != ENOENT) return Error::Sys("rmdir " + dir);
  return Ok{};
}

Result<UniqueFd> LockStateDir(const std::string& dir, bool wait) {
  UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd.valid()) return Error::Sys("open " + dir);
  if (::flock(fd.get(), LOCK_EX | (wait ? 0 : LOCK_NB)) != 0) return Error::Sys("lock " + dir);
  return fd;
}

Result<ContainerRecord> LoadRecord(const std::string& dir) {
  TRY_ASSIGN(std::string text, ReadFile(dir + "/" + kRecordFile), "state.json");
  return ParseRecord(text);
}

bool InitAlive(const ContainerRecord& record) {
  auto stat = ReadFile("/proc/" + std::to_string(record.pid) + "/stat");
  if (!stat) return false;
  auto start = HostStartTime(*stat);
  // A zombie (state Z, after comm) has exited: runtimes report the
  // container stopped, and run poststop, before it is reaped.
  const size_t comm_end = stat->rfind(')');
  const bool zombie = comm_end != std::string::npos && stat->compare(comm_end + 1, 2, " Z") == 0;
  return start && *start == record.pid_start && !zombie;
}

Result<> WritePidFile(const std::string& dir, const char* file, pid_t pid) {
  TRY_ASSIGN(uint64_t start, ReadProcessStartTime(pid), file);
  return WriteFileAtomic(dir + "/" + file,
                         std::to_string(pid) + " " + std::to_string(start) + "\n", 0600,
                         Durability::kVolatile);
}

std::optional<pid_t> LivePidInFile(const std::string& dir, const char* file) {
  auto text = ReadFile(dir + "/" + file);
  if (!text) return std::nullopt;
  auto f = SplitFields(Trim(*text));
  if (f.size() != 2) return std::nullopt;
  auto pid = ParseU64(f[0]);
  auto start = ParseU64(f[1]);
  if (!pid || !start || *pid == 0 || *pid > 0x3fffffff) return std::nullopt;
  auto now = ReadProcessStartTime(static_cast<pid_t>(*pid));
  if (!now || *now != *start) return std::nullopt;
  return static_cast<pid_t>(*pid);
}

bool StopRenderer(const std::string& dir, int grace_ms) {
  auto pid = LiveRendererPid(dir);
  if (!pid) return true;
  // A pidfd pins the process we verified: signals cannot reach a recycled pid.
  UniqueFd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, *pid, 0)));
  if (!pidfd.valid()) return errno == ESRCH;
  if (LiveRendererPid(dir) != pid) return true;
  for (int sig : {SIGTERM, SIGKILL}) {
    if (::syscall(SYS_pidfd_send_signal, pidfd.get(), sig, nullptr, 0) != 0) return errno == ESRCH;
    // Readable once it has exited (it may stay a zombie until reaped).
    struct pollfd p = {pidfd.get(), POLLIN, 0};
    if (::poll(&p, 1, grace_ms) == 1) return true;
  }
  return false;
}

}  // namespace prochook
