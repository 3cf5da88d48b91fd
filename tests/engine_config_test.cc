#include <doctest/doctest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "oci/engine_config.h"

using namespace prochook;

TEST_CASE("RenderHooksD is the hooks.d 1.0.0 document podman and CRI-O read") {
  auto j = nlohmann::json::parse(RenderHooksD("/usr/local/bin/prochook"));
  CHECK(j["version"] == "1.0.0");
  CHECK(j["hook"]["path"] == "/usr/local/bin/prochook");
  CHECK(j["hook"]["args"] == nlohmann::json({"prochook", "hook"}));
  CHECK(j["when"]["always"] == true);
  CHECK(j["stages"] == nlohmann::json({"createRuntime", "poststop"}));
  CHECK(IsProchookHooksD(RenderHooksD("/x")));
  CHECK_FALSE(IsProchookHooksD(R"({"version":"1.0.0","hook":{"path":"/usr/bin/nvidia","args":["nvidia"]}})"));
  CHECK_FALSE(IsProchookHooksD("not json"));
}

TEST_CASE("IsProchookSnippet knows prochook's snippet by its first line") {
  CHECK(IsProchookSnippet(RenderContainerdSnippet("/usr/local/bin/prochook-runtime")));
  CHECK_FALSE(IsProchookSnippet("# mine: prochook runtime\nversion = 2\n"));
  CHECK_FALSE(IsProchookSnippet(""));
}

TEST_CASE("AddDockerRuntime merges into daemon.json keeping every other key in order") {
  const std::string have =
      R"({"log-level": "warn", "runtimes": {"other": {"path": "/x"}}, "data-root": "/d"})";
  auto added = AddDockerRuntime(have, "/usr/local/bin/prochook", std::nullopt);
  REQUIRE(added.ok());
  CHECK(*added ==
        "{\n"
        "  \"log-level\": \"warn\",\n"
        "  \"runtimes\": {\n"
        "    \"other\": {\n"
        "      \"path\": \"/x\"\n"
        "    },\n"
        "    \"prochook\": {\n"
        "      \"path\": \"/usr/local/bin/prochook\",\n"
        "      \"runtimeArgs\": [\n"
        "        \"runtime\"\n"
        "      ]\n"
        "    }\n"
        "  },\n"
        "  \"data-root\": \"/d\"\n"
        "}\n");
  // Idempotent, and the runtime choice is an argument.
  CHECK(AddDockerRuntime(*added, "/usr/local/bin/prochook", std::nullopt).value() == *added);
  auto crun = nlohmann::json::parse(AddDockerRuntime("", "/p", "/usr/bin/crun").value());
  CHECK(crun["runtimes"]["prochook"]["runtimeArgs"] ==
        nlohmann::json({"runtime", "--prochook-runtime=/usr/bin/crun"}));

  // Removal restores the other keys; nothing to remove is nullopt.
  auto removed = RemoveDockerRuntime(*added);
  REQUIRE(removed.ok());
  REQUIRE(removed->has_value());
  CHECK(nlohmann::json::parse(**removed) == nlohmann::json::parse(have));
  auto only = RemoveDockerRuntime(AddDockerRuntime("{}", "/p", std::nullopt).value());
  CHECK(**only == "{}\n");
  CHECK_FALSE(RemoveDockerRuntime(have).value().has_value());

  // A syntax error says where, for the operator to fix it by hand.
  auto broken = AddDockerRuntime("{\"log-level\": \"warn\",\n \"debug\": tru}", "/p", std::nullopt);
  REQUIRE_FALSE(broken.ok());
  CHECK(broken.error().message().rfind("not valid JSON: parse error at line 2, column", 0) == 0);
  CHECK(AddDockerRuntime("[]", "/p", std::nullopt).error().message() == "not a JSON object");
  // A number past a double is an error to report, not a crash (libFuzzer
  // found this input: nlohmann throws out_of_range, not parse_error).
  auto huge = AddDockerRuntime("75555555e5555{\"000005", "/p", std::nullopt);
  REQUIRE_FALSE(huge.ok());
  CHECK(huge.error().message().rfind("not valid JSON", 0) == 0);
  CHECK_FALSE(AddDockerRuntime("{\"default-shm-size\": 1e5555}", "/p", std::nullopt).ok());

  for (const char* bad : {"{", "[]", R"({"runtimes": []})", "\"x\""}) {
    CAPTURE(bad);
    CHECK_FALSE(AddDockerRuntime(bad, "/p", std::nullopt).ok());
    CHECK_FALSE(RemoveDockerRuntime(bad).ok());
  }
}

TEST_CASE("RenderContainerdSnippet names the wrapper as the runc shim's binary") {
  const std::string s = RenderContainerdSnippet("/usr/local/bin/prochook-runtime");
  CHECK(s.find("version = 2\n") != std::string::npos);
  CHECK(s.find("[plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.prochook]\n"
               "  runtime_type = \"io.containerd.runc.v2\"\n") != std::string::npos);
  CHECK(s.find("    BinaryName = \"/usr/local/bin/prochook-runtime\"\n") != std::string::npos);
}

TEST_CASE("RenderPodmanRuntime names the wrapper as podman's runtime \"prochook\"") {
  const std::string s = RenderPodmanRuntime("/usr/local/bin/prochook-runtime");
  CHECK(IsProchookSnippet(s));
  CHECK(s.find("\n[engine.runtimes]\nprochook = [\"/usr/local/bin/prochook-runtime\"]\n") != std::string::npos);
}

TEST_CASE("examples/ hold exactly what prochook install writes for /usr/local/bin/prochook") {
  auto read = [](const char* path) {
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  };
  const std::string bin = "/usr/local/bin/prochook";
  CHECK(read("examples/hooks.d/prochook.json") == RenderHooksD(bin));
  CHECK(read("examples/containerd/prochook.toml") == RenderContainerdSnippet(bin + "-runtime"));
  CHECK(read("examples/podman/prochook.conf") == RenderPodmanRuntime(bin + "-runtime"));
  CHECK(read("examples/docker/daemon.json") == AddDockerRuntime("", bin, std::nullopt).value());
}
