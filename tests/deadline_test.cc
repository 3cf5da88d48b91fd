#include <doctest/doctest.h>
#include <limits.h>
#include <unistd.h>

#include <thread>

#include "hook/deadline.h"

using namespace prochook;
using namespace std::chrono_literals;

namespace {

// This test binary's own path: the "prochook" whose hook entry is sought.
std::string SelfPath() {
  char buf[PATH_MAX];
  ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  REQUIRE(n > 0);
  return std::string(buf, static_cast<size_t>(n));
}

}  // namespace

TEST_CASE("OwnHookTimeout finds this executable's entry, directly or through a wrapper") {
  const std::string self = SelfPath();
  CHECK(OwnHookTimeout({{.path = self, .args = {"prochook", "hook"}, .timeout = 10s}}) == 10s);
  // A wrapper naming it in its command line.
  CHECK(OwnHookTimeout({{.path = "/bin/sh",
                         .args = {"sh", "-c", "echo $$ >/x; exec '" + self + "' hook"},
                         .timeout = 4s}}) == 4s);
  // Other hooks' timeouts are not ours; the smallest of ours wins.
  CHECK_FALSE(OwnHookTimeout({{.path = "/bin/sh", .args = {"sh", "-c", "/bin/true"}, .timeout = 1s},
                              {.path = "/bin/true", .args = {self}, .timeout = 1s}})  // argv[0] only
                  .has_value());
  CHECK(OwnHookTimeout({{.path = self, .args = {}, .timeout = 9s},
                        {.path = self, .args = {}, .timeout = 2s},
                        {.path = self, .args = {}, .timeout = std::nullopt}}) == 2s);
  CHECK_FALSE(OwnHookTimeout({{.path = self, .args = {}, .timeout = std::nullopt}}).has_value());
  CHECK_FALSE(OwnHookTimeout({}).has_value());
}

TEST_CASE("Deadline: half the runtime's timeout, then every phase is refused with a reason") {
  Deadline none;
  CHECK_FALSE(none.Passed());
  CHECK(none.Check("mounting").ok());
  CHECK(Deadline(Deadline::Clock::now(), std::nullopt).Check("mounting").ok());

  const auto start = Deadline::Clock::now();
  Deadline d(start, 2s);
  CHECK(d.At() == start + 1s);
  CHECK(d.Check("mounting").ok());
  Deadline past(start - 3s, 4s);
  CHECK(past.Passed());
  auto r = past.Check("mounting");
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message() == "gave up before mounting: half of the runtime's 4 s hook timeout has passed");
}
