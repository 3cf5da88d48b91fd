#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "oci/config_edit.h"
#include "oci/runtime_args.h"

using namespace prochook;

TEST_CASE("ParseRuntimeCommand finds the command and bundle as engines write them") {
  struct Case {
    std::vector<std::string> args;
    std::string command;
    std::optional<std::string> bundle;
    std::optional<std::string> id = std::nullopt;
  };
  const Case cases[] = {
      // dockerd via containerd-shim-runc-v2 (runc v1 flags).
      {{"--root", "/var/run/docker/runtime-runc/moby", "--log",
        "/run/containerd/io.containerd.runtime.v2.task/moby/abc/log.json", "--log-format", "json",
        "--systemd-cgroup", "create", "--bundle", "/run/containerd/x/abc", "--pid-file",
        "/run/containerd/x/abc/init.pid", "abc"},
       "create",
       "/run/containerd/x/abc",
       "abc"},
      {{"--root=/r", "create", "-b", "/b", "id"}, "create", "/b", "id"},
      {{"run", "--bundle=/b2", "id"}, "run", "/b2", "id"},
      {{"create", "-b=/b3", "id"}, "create", "/b3", "id"},
      {{"create", "id"}, "create", std::nullopt, "id"},  // the current directory
      // The id after flags with values (a value is never the id).
      {{"run", "-d", "--pid-file", "/p", "--console-socket", "/s", "web", "-b", "/b5"}, "run", "/b5", "web"},
      {{"create", "--bundle", "/b6", "--", "-odd"}, "create", "/b6", "-odd"},
      {{"--debug", "start", "id"}, "start", std::nullopt},
      {{"--root", "/r", "delete", "--force", "id"}, "delete", std::nullopt},
      {{"--root", "/r", "state", "--bundle", "/x"}, "state", std::nullopt},  // not a create
      {{"--version"}, "", std::nullopt},
      {{}, "", std::nullopt},
      // A value that looks like a command is the flag's value.
      {{"--log", "create", "run", "-b", "/b4"}, "run", "/b4"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.args.size());
    RuntimeCommand got = ParseRuntimeCommand(c.args);
    CHECK(got.command == c.command);
    CHECK(got.bundle == c.bundle);
    CHECK(got.id == c.id);
  }
  CHECK(CommandCreatesContainer("create"));
  CHECK(CommandCreatesContainer("run"));
  CHECK_FALSE(CommandCreatesContainer("exec"));
}

TEST_CASE("AddProchookHooks appends to createRuntime and poststop, keeping everything else") {
  const std::string config =
      R"({"ociVersion":"1.0.2","process":{"args":["sh"]},"root":{"path":"rootfs"},)"
      R"("hooks":{"prestart":[{"path":"/usr/bin/nvidia-hook"}],"createRuntime":[{"path":"/x"}]},)"
      R"("annotations":{"a":"b"}})";
  auto edited = AddProchookHooks(config, "/usr/local/bin/prochook");
  REQUIRE(edited.ok());
  CHECK(edited->edit == HookEdit::kAdded);
  CHECK(edited->text ==
        R"({"ociVersion":"1.0.2","process":{"args":["sh"]},"root":{"path":"rootfs"},)"
        R"("hooks":{"prestart":[{"path":"/usr/bin/nvidia-hook"}],"createRuntime":[{"path":"/x"},)"
        R"({"path":"/usr/local/bin/prochook","args":["prochook","hook"],"timeout":10}],)"
        R"("poststop":[{"path":"/usr/local/bin/prochook","args":["prochook","hook"],"timeout":10}]},)"
        R"("annotations":{"a":"b"}})");

  // Twice is once.
  auto again = AddProchookHooks(edited->text, "/usr/local/bin/prochook");
  REQUIRE(again.ok());
  CHECK(again->edit == HookEdit::kPresent);
  // No hooks at all.
  auto bare = AddProchookHooks(R"({"ociVersion":"1.0.2"})", "/p");
  REQUIRE(bare.ok());
  auto j = nlohmann::json::parse(bare->text);
  CHECK(j["hooks"]["createRuntime"].size() == 1);
  CHECK(j["hooks"]["poststop"][0]["path"] == "/p");
}

TEST_CASE("AddProchookHooks honours io.prochook.disable and refuses malformed configs") {
  auto off = AddProchookHooks(R"({"annotations":{"io.prochook.disable":"true"}})", "/p");
  REQUIRE(off.ok());
  CHECK(off->edit == HookEdit::kDisabled);
  CHECK(off->text.empty());
  for (const char* bad : {"", "[]", "{", R"({"hooks":[]})", R"({"hooks":{"poststop":{}}})",
                          R"({"annotations":{"x":1}})"}) {
    CAPTURE(bad);
    CHECK_FALSE(AddProchookHooks(bad, "/p").ok());
  }
}
