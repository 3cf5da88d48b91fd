#include "common/reader.h"

#include <fcntl.h>
#include <unistd.h>

#include "common/io.h"

namespace prochook {
namespace {

// Reads fd from offset 0 to EOF with pread (the fd's own offset is unused).
Result<std::string> PreadAll(int fd, size_t max_bytes) {
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
    size += static_cast<size_t>(n);
    if (size > max_bytes) return Error::Msg("too large (more than " + std::to_string(max_bytes) + " bytes)");
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
  if (it == files_.end()) {
    if (files_.size() >= max_files_) return ReadFile(path, max_bytes);
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0 && errno != ENOENT) return Error::Sys("open " + path);
    it = files_.emplace(path, Entry{UniqueFd(fd)}).first;
  }
  if (!it->second.fd.valid()) {
    errno = ENOENT;
    return Error::Sys("open " + path);
  }
  auto data = PreadAll(it->second.fd.get(), max_bytes);
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
