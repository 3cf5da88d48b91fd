#include "common/reader.h"

#include <fcntl.h>
#include <linux/magic.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/io.h"

namespace prochook {
namespace {

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif

// kernfs files (sysfs attributes, cgroup interface files) print all of
// their content in one seq_file record, which a read copies whole when it
// fits. Task lists are the exception (a record per task), and are never
// read through a KeptOpenReader.
bool OneRecord(int fd) {
  struct statfs st;
  if (::fstatfs(fd, &st) != 0) return false;
  return st.f_type == SYSFS_MAGIC || st.f_type == CGROUP_SUPER_MAGIC || st.f_type == CGROUP2_SUPER_MAGIC;
}

// Whether the directory that holds path exists.
bool ParentExists(const std::string& path) {
  const size_t slash = path.rfind('/');
  if (slash == std::string::npos) return true;
  return ::access(slash == 0 ? "/" : path.substr(0, slash).c_str(), F_OK) == 0;
}

// Reads fd from offset 0 to EOF with pread (the fd's own offset is unused).
Result<std::string> PreadAll(int fd, size_t max_bytes, bool one_record) {
  std::string out;
  size_t size = 0;
  for (;;) {
    if (out.size() - size < 4096) out.resize(std::max<size_t>(out.size() * 2, 8192));
    ssize_t n = ::pread(fd, out.data() + size, out.size() - size, static_cast<off_t>(size));
    if (n < 0) {
      if (errno == EINTR) continue;
      return Error::Sys("read");
    }
    if (n == 0) break;
    const bool whole = one_record && static_cast<size_t>(n) < out.size() - size;
    size += static_cast<size_t>(n);
    if (size > max_bytes) return Error::Msg("too large (more than " + std::to_string(max_bytes) + " bytes)");
    if (whole) break;
  }
  out.resize(size);
  return out;
}

}  // namespace

Result<std::string> OpenEachTime::Read(const std::string& path, size_t max_bytes) {
  return ReadFile(path, max_bytes);
}

FileReader& OpenEachTimeReader() {
  static OpenEachTime reader;
  return reader;
}

Result<std::string> KeptOpenReader::Read(const std::string& path, size_t max_bytes) {
  auto it = files_.find(path);
  if (it != files_.end() && !it->second.fd.valid() && MonotonicMs() - it->second.absent_since_ms >= absent_ms_) {
    files_.erase(it);  // absent long enough: look for it again
    it = files_.end();
  }
  if (it == files_.end()) {
    if (files_.size() >= max_files_) return ReadFile(path, max_bytes);
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0 && errno != ENOENT) return Error::Sys("open " + path);
    // Absence is remembered only inside a directory that exists (a cgroup
    // without that interface file). A missing directory is a removed
    // cgroup, which may be made again with the tasks moved back: its files
    // are looked for again at the next read.
    if (fd < 0 && !ParentExists(path)) {
      errno = ENOENT;
      return Error::Sys("open " + path);
    }
    const bool one_record = fd >= 0 && OneRecord(fd);
    it = files_.emplace(path, Entry{UniqueFd(fd), one_record, fd < 0 ? MonotonicMs() : 0}).first;
  }
  if (!it->second.fd.valid()) {
    errno = ENOENT;
    return Error::Sys("open " + path);
  }
  auto data = PreadAll(it->second.fd.get(), max_bytes, it->second.one_record);
  if (!data) {
    files_.erase(it);  // opened afresh next time
    return data.error().Wrap("read " + path);
  }
  return data;
}

size_t KeptOpenReader::open_files() const {
  size_t n = 0;
  for (const auto& [path, entry] : files_) n += entry.fd.valid() ? 1 : 0;
  return n;
}

}  // namespace prochook
