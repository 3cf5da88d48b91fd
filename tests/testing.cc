#include "tests/testing.h"

#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
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

bool SkipOrFailInCi(const std::string& why) {
  const char* ci = std::getenv("CI");
  if (ci != nullptr && std::string(ci) == "true") FAIL("prerequisite missing in CI: " << why);
  const doctest::ContextOptions* options = doctest::getContextOptions();
  const std::string name = options != nullptr && options->currentTest != nullptr
                               ? options->currentTest->m_name
                               : "?";
  // One line, at the start of a line, flushed: run.sh reads it from test.log.
  std::cout << "prochook-test: SKIPPED " << name << ": " << why << std::endl;
  return true;
}

}  // namespace prochook::testing
