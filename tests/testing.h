// Helpers for tests: temporary fixture trees, visible skips.
#pragma once

#include <sys/types.h>

#include <map>
#include <set>
#include <string>

namespace prochook::testing {

// A temporary directory removed (recursively) on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  // Writes files (creating parent directories) relative to the directory.
  void Write(const std::map<std::string, std::string>& files) const;

 private:
  std::string path_;
};

// Which of the watched paths were opened (inotify IN_OPEN): a file, or a
// directory or any file in it. For tests that bound what code reads.
class OpenWatch {
 public:
  OpenWatch();
  ~OpenWatch();
  OpenWatch(const OpenWatch&) = delete;
  OpenWatch& operator=(const OpenWatch&) = delete;

  void Add(const std::string& path);
  // The watched paths opened since the last call.
  std::set<std::string> Opened();

 private:
  int fd_;
  std::map<int, std::string> paths_;  // by watch descriptor
};

// Reports that the running test case cannot check its claim here, for
// `why`: in CI (CI=true) that fails the case; elsewhere it prints
// "prochook-test: SKIPPED <case>: <why>" (which tests/run.sh counts as a
// skip, not a pass) and returns true so the caller returns.
bool SkipOrFailInCi(const std::string& why);

// A child process that waits until killed (it execs sleep, so no handler
// of the test's catches the signal); killed and reaped on scope exit.
struct Sleeper {
  Sleeper();
  ~Sleeper() { Kill(); }
  Sleeper(const Sleeper&) = delete;
  Sleeper& operator=(const Sleeper&) = delete;
  void Kill();
  bool Exited() const;
  pid_t pid;
};

}  // namespace prochook::testing
