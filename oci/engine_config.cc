#include "oci/engine_config.h"

#include <nlohmann/json.hpp>

#include "oci/json.h"

namespace prochook {
namespace {

using Json = nlohmann::ordered_json;

// The first bytes of the snippet prochook writes: how it knows its own.
constexpr char kSnippetHeader[] = "# prochook:";

// "not valid JSON: <what> at line L, column C": where to look.
Error SyntaxError(std::string_view text) {
  try {
    const Json ignored = Json::parse(text);
    (void)ignored;
  } catch (const Json::exception& e) {
    // parse_error, or out_of_range for a number past a double (1e5555).
    std::string what = e.what();  // "[json.exception.parse_error.101] parse error at ..."
    if (size_t end = what.find("] "); end != std::string::npos) what = what.substr(end + 2);
    return Error::Msg("not valid JSON: " + what);
  }
  return Error::Msg("not valid JSON");
}

// Errors say what is wrong and where (the caller names the file), for an
// operator to fix by hand.
Result<Json> ParseDaemonJson(std::string_view text) {
  if (text.find_first_not_of(" \t\r\n") == std::string_view::npos) return Json::object();
  // Bounds and shape first; only within the bounds is it parsed again, to
  // say where a syntax error is or to edit it with its keys in order.
  auto bounded = ParseJsonObject(text, "daemon.json");
  if (!bounded) {
    // The caller names the file: its message without "daemon.json: ".
    const std::string why = bounded.error().message().substr(sizeof "daemon.json: " - 1);
    return why == "not valid JSON" ? SyntaxError(text) : Error::Msg(why);
  }
  Json j = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.contains("runtimes") && !j["runtimes"].is_object()) {
    return Error::Msg("\"runtimes\" is not an object");
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
  auto parsed = ParseDaemonJson(daemon_json);
  if (!parsed) return parsed.error();
  Json j = std::move(*parsed);
  Json args = {"runtime"};
  if (real_runtime) args.push_back("--prochook-runtime=" + *real_runtime);
  j["runtimes"][kDockerRuntimeName] = {{"path", binary}, {"runtimeArgs", args}};
  return j.dump(2) + "\n";
}

Result<std::optional<std::string>> RemoveDockerRuntime(std::string_view daemon_json) {
  auto parsed = ParseDaemonJson(daemon_json);
  if (!parsed) return parsed.error();
  Json j = std::move(*parsed);
  if (!j.contains("runtimes") || !j["runtimes"].contains(kDockerRuntimeName)) {
    return std::optional<std::string>();
  }
  j["runtimes"].erase(kDockerRuntimeName);
  if (j["runtimes"].empty()) j.erase("runtimes");
  return std::optional<std::string>(j.dump(2) + "\n");
}

std::string RenderContainerdSnippet(const std::string& wrapper) {
  return std::string(kSnippetHeader) +
         " containerd CRI runtime \"prochook\" (runc shim with prochook's wrapper).\n"
         "# Put its tables in /etc/containerd/config.toml (version = 2), with a runtimes.runc\n"
         "# table if the file names no runtime. Not through imports: containerd 1.x replaces\n"
         "# config.toml's whole CRI section with an imported file's.\n"
         "version = 2\n"
         "[plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.prochook]\n"
         "  runtime_type = \"io.containerd.runc.v2\"\n"
         "  [plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.prochook.options]\n"
         "    BinaryName = \"" + wrapper + "\"\n";
}

bool IsProchookSnippet(std::string_view text) {
  return text.rfind(kSnippetHeader, 0) == 0;
}

std::string RenderPodmanRuntime(const std::string& wrapper) {
  return std::string(kSnippetHeader) +
         " podman runtime \"prochook\" (runc behind prochook's wrapper):\n"
         "#   podman --runtime prochook run ...\n"
         "# gives a container its own clock and sysinfo(2) too; hooks.d alone serves the files.\n"
         "[engine.runtimes]\n"
         "prochook = [\"" + wrapper + "\"]\n";
}

bool IsProchookHooksD(std::string_view text) {
  auto j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object() || !j.contains("hook") || !j["hook"].is_object()) return false;
  const auto& hook = j["hook"];
  return hook.contains("args") && hook["args"].is_array() && hook["args"].size() >= 2 &&
         hook["args"][0] == "prochook" && hook["args"][1] == "hook";
}

}  // namespace prochook
