#include "common/io.h"

#include <fcntl.h>
#include <unistd.h>

namespace prochook {

Result<UniqueFd> OpenFile(const std::string& path, int flags, mode_t mode) {
  int fd = ::open(path.c_str(), flags | O_CLOEXEC, mode);
  if (fd < 0) return Error::Sys("open " + path);
  return UniqueFd(fd);
}

Result<std::string> ReadAll(int fd, size_t max_bytes) {
  std::string out;
  char buf[16384];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Error::Sys("read");
    }
    if (n == 0) return out;
    if (out.size() + static_cast<size_t>(n) > max_bytes) {
      return Error::Msg("too large (more than " + std::to_string(max_bytes) + " bytes)");
    }
    out.append(buf, static_cast<size_t>(n));
  }
}

Result<std::string> ReadFile(const std::string& path, size_t max_bytes) {
  TRY_ASSIGN(UniqueFd fd, OpenFile(path, O_RDONLY), "reading file");
  auto data = ReadAll(fd.get(), max_bytes);
  if (!data) return data.error().Wrap("read " + path);
  return data;
}

Result<> PwriteAll(int fd, std::string_view data, off_t offset) {
  while (!data.empty()) {
    ssize_t n = ::pwrite(fd, data.data(), data.size(), offset);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Error::Sys("pwrite");
    }
    data.remove_prefix(static_cast<size_t>(n));
    offset += n;
  }
  return Ok{};
}

Result<> WriteAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return Error::Sys("write");
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return Ok{};
}

Result<> WriteFileAtomic(const std::string& path, std::string_view data, mode_t mode,
                         Durability durability) {
  // A per-process temporary name: two writers of the same file (the hook
  // and the renderer it started) must not rename each other's file away.
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  {
    TRY_ASSIGN(UniqueFd fd, OpenFile(tmp, O_WRONLY | O_CREAT | O_TRUNC, mode), "write " + path);
    TRY(WriteAll(fd.get(), data), "write " + tmp);
    if (durability == Durability::kSynced && ::fsync(fd.get()) != 0) {
      return Error::Sys("fsync " + tmp);
    }
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) return Error::Sys("rename " + tmp);
  return Ok{};
}

}  // namespace prochook
