#include <doctest/doctest.h>

#include <string>

#include "oci/config.h"
#include "oci/options.h"
#include "oci/state.h"

using namespace prochook;
using namespace std::chrono_literals;

TEST_CASE("ParseState reads what runc, crun and podman send") {
  // runc 1.1.5 at createRuntime.
  auto runc = ParseState(R"({"ociVersion":"1.0.2-dev","id":"c1","status":"creating","pid":4242,
      "bundle":"/tmp/b"})");
  REQUIRE(runc.ok());
  CHECK(runc->id == "c1");
  CHECK(runc->pid == 4242);
  CHECK(runc->status == "creating");
  CHECK(runc->bundle == "/tmp/b");
  // crun 1.8: status "created" and an extra "root" field.
  auto crun = ParseState(R"({"ociVersion":"1.0","id":"c2","pid":7,"root":"/run/crun",
      "bundle":"/b","status":"created","annotations":{"io.prochook.interval":"250ms"}})");
  REQUIRE(crun.ok());
  CHECK(crun->annotations.at("io.prochook.interval") == "250ms");
  // poststop: no pid.
  auto stopped = ParseState(R"({"ociVersion":"1.0.2","id":"c3","status":"stopped","bundle":"/b"})");
  REQUIRE(stopped.ok());
  CHECK(stopped->pid == 0);
}

TEST_CASE("ParseState rejects malformed input with a message naming the problem") {
  struct Case {
    const char* input;
    const char* says;
  };
  const Case cases[] = {
      {"", "empty input"},
      {"not json", "not valid JSON"},
      {"[1,2]", "not a JSON object"},
      {R"({"id":5,"pid":1,"bundle":"/b"})", "\"id\" is not a string"},
      {R"({"id":"x","pid":"1","bundle":"/b"})", "\"pid\" is not an integer"},
      {R"({"id":"x","pid":-3,"bundle":"/b"})", "\"pid\" out of range"},
      {R"({"id":"x","pid":99999999999,"bundle":"/b"})", "\"pid\" out of range"},
      {R"({"id":"x","bundle":"/b","status":"creating"})", "missing \"pid\""},
      {R"({"pid":1,"bundle":"/b"})", "missing \"id\""},
      {R"({"id":"x","pid":1})", "missing \"bundle\""},
      {R"({"id":"x","pid":1,"bundle":"/b","annotations":{"a":1}})", "annotations.a"},
      {"{\"id\":\"\xff\xfe\",\"pid\":1,\"bundle\":\"/b\"}", "not valid JSON"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.input);
    auto s = ParseState(c.input);
    REQUIRE_FALSE(s.ok());
    CHECK(s.error().message().find(c.says) != std::string::npos);
  }
}

TEST_CASE("ParseState bounds nesting depth and size before parsing") {
  std::string deep = "{\"a\":" + std::string(100000, '[') + std::string(100000, ']') + "}";
  auto d = ParseState(deep);
  REQUIRE_FALSE(d.ok());
  CHECK(d.error().message().find("nested deeper") != std::string::npos);
  std::string huge = R"({"id":"x","pid":1,"bundle":"/b","pad":")" + std::string(17 << 20, 'a') + "\"}";
  auto h = ParseState(huge);
  REQUIRE_FALSE(h.ok());
  CHECK(h.error().message().find("larger than") != std::string::npos);
}

TEST_CASE("ParseConfig takes root.path and annotations, ignores the rest") {
  auto c = ParseConfig(R"({"ociVersion":"1.0.2","root":{"path":"rootfs","readonly":true},
      "process":{"args":["sh"]},"annotations":{"io.prochook.disable":"true"}})");
  REQUIRE(c.ok());
  CHECK(c->root_path == "rootfs");
  CHECK(c->annotations.at("io.prochook.disable") == "true");
  CHECK_FALSE(ParseConfig(R"({"process":{}})").ok());
  CHECK_FALSE(ParseConfig(R"({"root":{"path":7}})").ok());
  CHECK_FALSE(ParseConfig(R"({"root":{"path":""}})").ok());
}

TEST_CASE("ParseConfig keeps the createRuntime and prestart hooks, skipping entries it cannot read") {
  auto c = ParseConfig(R"({"root":{"path":"rootfs"},"hooks":{
      "createRuntime":[{"path":"/usr/bin/prochook","args":["prochook","hook"],"timeout":10},
                       {"path":"/bin/x","timeout":-1}, 7, {"args":["no path"]}],
      "prestart":[{"path":"/bin/y","args":["y",3],"timeout":2.5}],
      "poststop":[{"path":"/usr/bin/prochook","timeout":1}]}})");
  REQUIRE(c.ok());
  REQUIRE(c->setup_hooks.size() == 3);
  CHECK(c->setup_hooks[0].path == "/usr/bin/prochook");
  CHECK(c->setup_hooks[0].args == std::vector<std::string>{"prochook", "hook"});
  CHECK(c->setup_hooks[0].timeout == std::chrono::seconds(10));
  CHECK_FALSE(c->setup_hooks[1].timeout.has_value());  // not positive
  CHECK(c->setup_hooks[2].path == "/bin/y");
  CHECK(c->setup_hooks[2].args == std::vector<std::string>{"y"});
  CHECK_FALSE(c->setup_hooks[2].timeout.has_value());  // not an integer
  // Hooks of the wrong shape are the runtime's business, never an error here.
  CHECK(ParseConfig(R"({"root":{"path":"r"},"hooks":[1]})").ok());
  CHECK(ParseConfig(R"({"root":{"path":"r"},"hooks":{"prestart":{}}})").ok());
}

TEST_CASE("ResolveRootPath makes root.path absolute against the bundle") {
  CHECK(ResolveRootPath("/b", "rootfs") == "/b/rootfs");
  CHECK(ResolveRootPath("/b/", "rootfs") == "/b/rootfs");
  CHECK(ResolveRootPath("/b", "/var/lib/merged") == "/var/lib/merged");
  CHECK(ResolveRootPath("/b", "../shared/root") == "/b/../shared/root");
}

TEST_CASE("ParseDuration accepts ms, s and m within 10ms..1h") {
  CHECK(*ParseDuration("250ms") == 250ms);
  CHECK(*ParseDuration("1s") == 1000ms);
  CHECK(*ParseDuration("1.5s") == 1500ms);
  CHECK(*ParseDuration("2m") == 120000ms);
  for (const char* bad : {"", "250", "ms", "5ms", "2h", "-1s", "1e9s", "nan s", "1.5 s"}) {
    CAPTURE(bad);
    CHECK_FALSE(ParseDuration(bad).ok());
  }
}

TEST_CASE("ParseOptions keeps defaults and warns on values it does not understand") {
  Options d = ParseOptions({});
  CHECK_FALSE(d.disabled);
  CHECK(d.interval == 1000ms);
  CHECK(d.idle == 10000ms);
  CHECK(d.policy == FailPolicy::kOpen);
  CHECK(d.warnings.empty());

  CHECK(ParseOptions({{"io.prochook.idle", "off"}}).idle == 0ms);
  CHECK(ParseOptions({{"io.prochook.idle", "1m"}}).idle == 60000ms);
  Options o = ParseOptions({{"io.prochook.interval", "250ms"},
                            {"io.prochook.policy", "fail-closed"},
                            {"io.prochook.disable", "true"}});
  CHECK(o.disabled);
  CHECK(o.interval == 250ms);
  CHECK(o.policy == FailPolicy::kClosed);

  Options bad = ParseOptions({{"io.prochook.interval", "fast"},
                              {"io.prochook.policy", "maybe"},
                              {"io.prochook.disable", "yes"},
                              {"io.prochook.idle", "never"}});
  CHECK(bad.interval == 1000ms);
  CHECK(bad.policy == FailPolicy::kOpen);
  CHECK_FALSE(bad.disabled);
  CHECK(bad.idle == 10000ms);
  CHECK(bad.warnings.size() == 4);
}

TEST_CASE("ParseOptions: files, CPU view, swap and uptime choices") {
  Options d = ParseOptions({});
  CHECK(d.files == AllFileNames());
  CHECK(d.cpu_view_quota);
  CHECK(d.show_swap);
  CHECK_FALSE(d.container_uptime);

  Options o = ParseOptions({{"io.prochook.files", "meminfo,stat,,meminfo,sys-cpu"},
                            {"io.prochook.cpu-view", "cpuset"},
                            {"io.prochook.swap", "zero"},
                            {"io.prochook.uptime", "container"}});
  CHECK(o.files == std::vector<std::string>{"meminfo", "stat", "sys-cpu"});
  CHECK_FALSE(o.cpu_view_quota);
  CHECK_FALSE(o.show_swap);
  CHECK(o.container_uptime);
  CHECK(o.warnings.empty());

  // A typo never narrows what is served, and says what it did not understand.
  Options bad = ParseOptions({{"io.prochook.files", "meminfo,memnifo"},
                              {"io.prochook.cpu-view", "both"},
                              {"io.prochook.uptime", "vm"}});
  CHECK(bad.files == AllFileNames());
  CHECK(bad.cpu_view_quota);
  CHECK_FALSE(bad.container_uptime);
  REQUIRE(bad.warnings.size() == 3);
  CHECK(bad.warnings[0].find("memnifo") != std::string::npos);
}
