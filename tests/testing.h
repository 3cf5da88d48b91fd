// Helpers for tests: temporary fixture trees, visible skips.
#pragma once

#include <map>
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

// Reports that the running test case cannot check its claim here, for
// `why`: in CI (CI=true) that fails the case; elsewhere it prints
// "prochook-test: SKIPPED <case>: <why>" (which tests/run.sh counts as a
// skip, not a pass) and returns true so the caller returns.
bool SkipOrFailInCi(const std::string& why);

}  // namespace prochook::testing
