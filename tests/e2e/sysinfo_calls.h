// sysinfo(2) called inside a container: the static sysinfo_caller
// (//tests/e2e:sysinfo_caller, in the test's data) bound at /opt/caller,
// and its one line of output read back. For the tests of the agent
// (sysinfo_test: wrapper mode; nri_test: the NRI plugin).
#pragma once

#include <doctest/doctest.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <sstream>
#include <string>
#include <utility>

#include "tests/e2e/harness.h"

namespace prochook::e2e {

// One line of sysinfo_caller.
struct Answer {
  int ret = -1, err = 0;
  long uptime = 0;
  uint64_t totalram = 0, freeram = 0, sharedram = 0, bufferram = 0, totalswap = 0, freeswap = 0;
  unsigned procs = 0;
  uint64_t totalhigh = 0, freehigh = 0;
  unsigned mem_unit = 0;
  uint64_t loads[3] = {0, 0, 0};
};

inline std::optional<Answer> ParseAnswer(const std::string& line) {
  std::istringstream in(line);
  Answer a;
  in >> a.ret >> a.err >> a.uptime >> a.totalram >> a.freeram >> a.sharedram >> a.bufferram >> a.totalswap >>
      a.freeswap >> a.procs >> a.totalhigh >> a.freehigh >> a.mem_unit >> a.loads[0] >> a.loads[1] >> a.loads[2];
  if (!in) return std::nullopt;
  return a;
}

// sysinfo(2) in an exec of the container.
inline Answer Call(const Container& c) {
  RunResult r = c.Exec({"/opt/caller/sysinfo_caller"});
  INFO("sysinfo_caller: " << r.out << r.err);
  REQUIRE(r.exit_code == 0);
  auto a = ParseAnswer(r.out);
  REQUIRE(a.has_value());
  return *a;
}

// A temporary directory with the caller in it, removed with the object;
// Bind() is its Container::Options::binds entry.
class CallerDir {
 public:
  CallerDir() {
    char tmpl[] = "/tmp/prochook-caller-XXXXXX";
    REQUIRE(::mkdtemp(tmpl) != nullptr);
    dir_ = tmpl;
    // Bound as /opt/caller: a caller of another uid must get through it.
    REQUIRE(::chmod(dir_.c_str(), 0755) == 0);
    std::filesystem::copy_file(std::filesystem::canonical("tests/e2e/sysinfo_caller"), dir_ + "/sysinfo_caller");
  }
  ~CallerDir() {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  CallerDir(const CallerDir&) = delete;
  CallerDir& operator=(const CallerDir&) = delete;

  std::pair<std::string, std::string> Bind() const { return {"/opt/caller", dir_}; }

 private:
  std::string dir_;
};

}  // namespace prochook::e2e
