#include "install/config_file.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/fd.h"
#include "common/io.h"

namespace prochook {
namespace {

constexpr size_t kMaxConfigBytes = 16 << 20;

std::string DirName(const std::string& path) {
  const size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

// What is at path if it is not a regular file, for an error message.
std::string Describe(const std::string& path, const struct stat& st) {
  if (S_ISDIR(st.st_mode)) return "is a directory, not a file";
  if (S_ISLNK(st.st_mode)) {
    char target[4096];
    const ssize_t n = ::readlink(path.c_str(), target, sizeof target - 1);
    const std::string to = n > 0 ? std::string(target, static_cast<size_t>(n)) : "?";
    const bool dangling = ::access(path.c_str(), F_OK) != 0;
    return std::string("is a symbolic link to ") + to + (dangling ? " (which does not exist)" : "") +
           "; prochook edits only regular files";
  }
  return "is not a regular file";
}

// Whether path exists (without following a final symbolic link); an error
// if it exists and is not a regular file, or cannot be looked at.
Result<bool> RegularOrAbsent(const std::string& path, struct stat* st) {
  if (::lstat(path.c_str(), st) != 0) {
    if (errno == ENOENT) return false;
    return Error::Sys("stat " + path);
  }
  if (!S_ISREG(st->st_mode)) return Error::Msg(path + " " + Describe(path, *st));
  return true;
}

// Writes text to a new temporary file next to path, with mode and owner,
// synced; returns its name. Removes it if any step fails.
Result<std::string> WriteTemporary(const std::string& path, std::string_view text, mode_t mode, uid_t uid,
                                   gid_t gid) {
  std::string tmp = DirName(path) + "/.prochook-tmp-XXXXXX";
  const int raw = ::mkostemp(tmp.data(), O_CLOEXEC);
  if (raw < 0) return Error::Sys("create a temporary file in " + DirName(path));
  UniqueFd fd(raw);
  Result<> r = [&]() -> Result<> {
    if (::fchown(fd.get(), uid, gid) != 0) return Error::Sys("chown " + tmp);
    if (::fchmod(fd.get(), mode) != 0) return Error::Sys("chmod " + tmp);
    TRY(WriteAll(fd.get(), text), "write " + tmp);
    if (::fsync(fd.get()) != 0) return Error::Sys("fsync " + tmp);
    return Ok{};
  }();
  if (!r) {
    ::unlink(tmp.c_str());
    return r.error();
  }
  return tmp;
}

// Renames a synced temporary file over path and syncs the directory, so the
// new name survives a crash too.
Result<> Publish(const std::string& tmp, const std::string& path) {
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    Error e = Error::Sys("rename " + tmp + " to " + path);
    ::unlink(tmp.c_str());
    return e;
  }
  UniqueFd dir(::open(DirName(path).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dir.valid() || ::fsync(dir.get()) != 0) return Error::Sys("fsync " + DirName(path));
  return Ok{};
}

}  // namespace

Result<ConfigFile> ReadConfigFile(const std::string& path) {
  struct stat st;
  auto exists = RegularOrAbsent(path, &st);
  if (!exists) return exists.error();
  if (!*exists) return ConfigFile{};
  // O_NOFOLLOW and the fstat close the gap between the lstat and the open.
  auto fd = OpenFile(path, O_RDONLY | O_NOFOLLOW);
  if (!fd) return fd.error();
  if (::fstat(fd->get(), &st) != 0) return Error::Sys("stat " + path);
  if (!S_ISREG(st.st_mode)) return Error::Msg(path + " " + Describe(path, st));
  auto text = ReadAll(fd->get(), kMaxConfigBytes);
  if (!text) return text.error().Wrap("read " + path);
  return ConfigFile{true, std::move(*text)};
}

Result<> ReplaceConfigFile(const std::string& path, std::string_view text, const std::string& backup) {
  struct stat st;
  auto found = RegularOrAbsent(path, &st);
  if (!found) return found.error();
  const bool exists = *found;
  const mode_t mode = exists ? (st.st_mode & 07777) : 0644;
  const uid_t uid = exists ? st.st_uid : ::geteuid();
  const gid_t gid = exists ? st.st_gid : ::getegid();
  struct stat backup_st;
  if (exists && !backup.empty() && ::lstat(backup.c_str(), &backup_st) != 0) {
    if (errno != ENOENT) return Error::Sys("stat " + backup);
    TRY_ASSIGN(ConfigFile original, ReadConfigFile(path), "backup");
    TRY_ASSIGN(std::string tmp, WriteTemporary(backup, original.text, mode, uid, gid), "backup");
    TRY(Publish(tmp, backup), "backup");
  }
  TRY_ASSIGN(std::string tmp, WriteTemporary(path, text, mode, uid, gid), "replacing " + path);
  TRY(Publish(tmp, path), "replacing " + path);
  return Ok{};
}

}  // namespace prochook
