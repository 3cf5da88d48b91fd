#include "oci/engine_config.h"

#include <nlohmann/json.hpp>

#include "oci/json.h"

namespace prochook {
namespace {

using Json = nlohmann::ordered_json;

Result<Json> ParseDaemonJson(std::string_view text) {
  if (text.find_first_not_of(" \t\r\n") == std::string_view::npos) return Json::object();
  // Bounds and shape first, then an order-preserving parse to edit.
  TRY(ParseJsonObject(text, "daemon.json"), "daemon.json");
  Json j = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.contains("runtimes") && !j["runtimes"].is_object()) {
    return Error::Msg("daemon.json: \"runtimes\" is not an object");
  }
  return j;
}

}  // namespace

std::string RenderHooksD(const std::string& binary) {
  Json j = {{"version", "1.0.0"},
            {"hook", {{"path", binary}, {"args", {"prochook", "hook"}}, {"timeout", 10}}},
            {"when", {{"always", true}}},
            {"stages", {"createRuntime", "poststop"}}};
  return j.dump(2) + "\n";
}

Result<std::string> AddDockerRuntime(std::string_view daemon_json, const std::string& binary,
                                     const std::optional<std::string>& real_runtime) {
  TRY_ASSIGN(Json j, ParseDaemonJson(daemon_json), "daemon.json");
  Json args = {"runtime"};
  if (real_runtime) args.push_back("--prochook-runtime=" + *real_runtime);
  j["runtimes"][kDockerRuntimeName] = {{"path", binary}, {"runtimeArgs", args}};
  return j.dump(2) + "\n";
}

Result<std::optional<std::string>> RemoveDockerRuntime(std::string_view daemon_json) {
  TRY_ASSIGN(Json j, ParseDaemonJson(daemon_json), "daemon.json");
  if (!j.contains("runtimes") || !j["runtimes"].contains(kDockerRuntimeName)) {
    return std::optional<std::string>();
  }
  j["runtimes"].erase(kDockerRuntimeName);
  if (j["runtimes"].empty()) j.erase("runtimes");
  return std::optional<std::string>(j.dump(2) + "\n");
}

std::string RenderContainerdSnippet(const std::string& wrapper) {
  return "# prochook: containerd CRI runtime \"prochook\" (runc shim with prochook's wrapper).\n"
         "# Import it from /etc/containerd/config.toml (version = 2):\n"
         "#   imports = [\"/etc/containerd/prochook.toml\"]\n"
         "version = 2\n"
         "[plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.prochook]\n"
         "  runtime_type = \"io.containerd.runc.v2\"\n"
         "  [plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.prochook.options]\n"
         "    BinaryName = \"" + wrapper + "\"\n";
}

bool IsProchookHooksD(std::string_view text) {
  auto j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object() || !j.contains("hook") || !j["hook"].is_object()) return false;
  const auto& hook = j["hook"];
  return hook.contains("args") && hook["args"].is_array() && hook["args"].size() >= 2 &&
         hook["args"][0] == "prochook" && hook["args"][1] == "hook";
}

}  // namespace prochook
