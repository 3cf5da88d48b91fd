// The runtime wrapper as an engine uses it: a symlink named
// prochook-runtime to the prochook under test, with runc or crun behind it
// ($PROCHOOK_RUNTIME), and the static sysinfo caller where a container
// binds it (/opt/caller).
#pragma once

#include <doctest/doctest.h>
#include <stdlib.h>

#include <filesystem>
#include <map>
#include <string>

#include "tests/e2e/harness.h"
#include "tests/e2e/sysinfo_calls.h"

namespace prochook::e2e {

class WrapperFixture {
 public:
  // runtime: what the wrapper execs (runc, crun).
  explicit WrapperFixture(const std::string& runtime = "runc") {
    char tmpl[] = "/tmp/prochook-wrapper-XXXXXX";
    REQUIRE(::mkdtemp(tmpl) != nullptr);
    dir_ = tmpl;
    namespace fs = std::filesystem;
    fs::create_symlink(ProchookBinary(), dir_ + "/prochook-runtime");
    ::setenv("PROCHOOK_RUNTIME", runtime.c_str(), 1);
  }
  ~WrapperFixture() {
    ::unsetenv("PROCHOOK_RUNTIME");  // dockerd, started later, passes it on
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  Container::Options Options(std::map<std::string, std::string> annotations = {}) const {
    Container::Options o;
    o.runtime = dir_ + "/prochook-runtime";
    o.hook_stage = "";  // the wrapper adds the hooks
    o.cpus = "0";
    o.binds = {caller_.Bind()};
    o.annotations = std::move(annotations);
    return o;
  }

 private:
  std::string dir_;
  CallerDir caller_;
};

}  // namespace prochook::e2e
