#include "oci/runtime_state.h"

#include "common/io.h"
#include "oci/json.h"
#include "state/record.h"

namespace prochook {
namespace {

std::optional<uint64_t> Unsigned(const nlohmann::json& doc, const char* key) {
  auto it = doc.find(key);
  if (it == doc.end() || !it->is_number_unsigned()) return std::nullopt;
  return it->get<uint64_t>();
}

}  // namespace

std::optional<RuntimeInit> ParseRuntimeInit(std::string_view text) {
  auto doc = ParseJsonObject(text, "runtime state");
  if (!doc) return std::nullopt;
  for (auto [pid_key, start_key] : {std::pair{"init_process_pid", "init_process_start"},
                                    std::pair{"pid", "process-start-time"}}) {
    auto pid = Unsigned(*doc, pid_key);
    if (!pid) continue;
    if (*pid == 0 || *pid > 0x3fffffff) return std::nullopt;
    return RuntimeInit{static_cast<pid_t>(*pid), Unsigned(*doc, start_key)};
  }
  return std::nullopt;
}

std::optional<RuntimeInit> FindRuntimeInit(const std::string& root, const std::string& id) {
  if (!ValidateContainerId(id)) return std::nullopt;
  for (const char* file : {"state.json", "status"}) {
    auto text = ReadFile(root + "/" + id + "/" + file, 1 << 20);
    if (!text) continue;
    if (auto init = ParseRuntimeInit(*text)) return init;
  }
  return std::nullopt;
}

std::string DefaultRuntimeRoot(const std::string& program) {
  const size_t slash = program.rfind('/');
  const std::string base = slash == std::string::npos ? program : program.substr(slash + 1);
  return base.find("crun") != std::string::npos ? "/run/crun" : "/run/runc";
}

}  // namespace prochook
