#include "tests/testing.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>

namespace prochook::testing {

TempDir::TempDir() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "prochook-test-XXXXXX").string();
  if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  path_ = tmpl;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

void TempDir::Write(const std::map<std::string, std::string>& files) const {
  for (const auto& [rel, content] : files) {
    std::filesystem::path p = std::filesystem::path(path_) / rel;
    std::filesystem::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary | std::ios::trunc) << content;
  }
}

}  // namespace prochook::testing
