// The logger keeps what is logged before it is configured and gives it to
// the first configuration's sinks. Process-wide state: one test case.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <unistd.h>

#include <string>

#include "common/io.h"
#include "common/log.h"
#include "tests/testing.h"

using namespace prochook;
using prochook::testing::TempDir;

TEST_CASE("lines logged before ConfigureLog reach the configured log file, once, and bounded") {
  TempDir t;
  // More than fits: the oldest lines go first.
  for (int i = 0; i < 60; ++i) LOG_INFO("filler %02d %s", i, std::string(150, 'x').c_str());
  // What the hook logs while it makes its store, before hook.log exists.
  LOG_WARN("store: cannot make an XFS store at %s", "/run/x");
  LOG_DEBUG("below the default level: not kept");
  const std::string path = t.path() + "/hook.log";
  UniqueFd file(::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600));
  REQUIRE(file.valid());
  const int devnull = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
  ConfigureLog({.fd = devnull, .file_fd = file.get(), .syslog = false, .min = LogLevel::kInfo, .tag = "t"});
  LOG_INFO("after");
  std::string log = ReadFile(path).value();
  CHECK(log.find("prochook[") != std::string::npos);
  CHECK(log.find("warn: store: cannot make an XFS store at /run/x\n") != std::string::npos);
  CHECK(log.find("below the default level") == std::string::npos);
  CHECK(log.find("filler 00") == std::string::npos);
  CHECK(log.find("filler 59") != std::string::npos);
  CHECK(log.find("earlier log line(s) did not fit and were dropped") != std::string::npos);
  CHECK(log.size() < kPendingLogBytes + 1024);
  CHECK(log.find("t[") != std::string::npos);
  CHECK(log.find("info: after\n") > log.find("store: cannot"));

  // Only the first configuration gets them.
  ConfigureLog({.fd = devnull, .file_fd = file.get(), .syslog = false, .min = LogLevel::kInfo, .tag = "t2"});
  CHECK(ReadFile(path).value().size() == log.size());
  ::close(devnull);
}
