// The prochook binary as a runtime invokes it, without a container.
#include <doctest/doctest.h>

#include "tests/e2e/harness.h"

using namespace prochook::e2e;

TEST_CASE("prochook hook: malformed state is exit 2 with a message naming the problem") {
  const std::string bin = ProchookBinary();
  RunResult junk = Run({bin, "hook"}, "this is not json");
  CHECK(junk.exit_code == 2);
  CHECK(junk.err.find("OCI state: not valid JSON") != std::string::npos);

  RunResult no_pid = Run({bin, "hook"}, R"({"id":"x","bundle":"/b","status":"creating"})");
  CHECK(no_pid.exit_code == 2);
  CHECK(no_pid.err.find("missing \"pid\"") != std::string::npos);

  RunResult bad_id = Run({bin, "hook"}, R"({"id":"../etc","pid":1,"bundle":"/b"})");
  CHECK(bad_id.exit_code == 2);
  CHECK(bad_id.err.find("container id") != std::string::npos);
}

TEST_CASE("prochook hook: a bundle without config.json is exit 2 naming the file") {
  RunResult r = Run({ProchookBinary(), "hook"},
                    R"({"id":"x","pid":1,"bundle":"/nonexistent-bundle","status":"creating"})");
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("/nonexistent-bundle/config.json") != std::string::npos);
}

TEST_CASE("prochook: usage errors") {
  CHECK(Run({ProchookBinary()}).exit_code == 2);
  CHECK(Run({ProchookBinary(), "frobnicate"}).exit_code == 2);
  RunResult v = Run({ProchookBinary(), "version"});
  CHECK(v.exit_code == 0);
  CHECK(v.out.rfind("prochook ", 0) == 0);
}
