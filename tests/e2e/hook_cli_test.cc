// The prochook binary as a runtime invokes it, without a container.
#include <doctest/doctest.h>

#include <chrono>
#include <filesystem>

#include "state/record.h"
#include "state/state_dir.h"
#include "tests/e2e/harness.h"
#include "tests/testing.h"

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

TEST_CASE("prochook hook: hostile input is a clear error, fast, with nothing left behind") {
  const std::string bin = ProchookBinary();
  struct Case {
    const char* what;
    std::string state;
    const char* message;
  };
  const std::string huge = R"({"id":"huge","pid":1,"bundle":"/b","annotations":{"a":")" +
                           std::string(100 << 20, 'x') + R"("}})";
  const Case cases[] = {
      {"100 MB of JSON", huge, "too large"},
      {"pid of the wrong type", R"({"id":"wrongtype","pid":"1","bundle":"/b"})", "\"pid\""},
      {"a huge pid", R"({"id":"hugepid","pid":99999999999999999999,"bundle":"/b"})", "pid"},
      {"non-UTF-8 id", "{\"id\":\"\xff\xfe\",\"pid\":1,\"bundle\":\"/b\"}", "OCI state"},
      {"deep nesting", std::string(100000, '[') + std::string(100000, ']'), "OCI state"},
      {"an id with a slash", R"({"id":"a/b","pid":1,"bundle":"/b"})", "container id"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.what);
    const auto t0 = std::chrono::steady_clock::now();
    RunResult r = Run({bin, "hook"}, c.state);
    CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(10));
    CHECK(r.exit_code == 2);
    INFO("stderr: " << r.err.substr(0, 300));
    CHECK(r.err.find(c.message) != std::string::npos);
  }
  // Nothing under any state dir name: prochook ps lists every state dir.
  const std::string ps = Run({bin, "ps"}).out;
  for (const char* id : {"huge", "wrongtype", "hugepid"}) {
    CHECK_FALSE(std::filesystem::exists(prochook::StateDirPath(prochook::kDefaultRunDir, id, "/b")));
    CHECK(ps.find(std::string("\n") + id + " ") == std::string::npos);
  }
}

TEST_CASE("prochook hook: a config.json of the wrong shape is exit 2 naming the field") {
  prochook::testing::TempDir t;
  t.Write({{"config.json", R"({"ociVersion":"1.0.2","root":{"path":"rootfs"},"annotations":["x"]})"}});
  RunResult r = Run({ProchookBinary(), "hook"},
                    R"({"id":"badconfig","pid":1,"bundle":")" + t.path() + R"(","status":"creating"})");
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("annotations") != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(prochook::StateDirPath(prochook::kDefaultRunDir, "badconfig", t.path())));
  CHECK(Run({ProchookBinary(), "ps"}).out.find("\nbadconfig ") == std::string::npos);
}
