// Helpers for tests: temporary fixture trees.
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

}  // namespace prochook::testing
