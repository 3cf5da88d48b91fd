#include "oci/config_edit.h"

#include <nlohmann/json.hpp>

#include "oci/json.h"
#include "oci/options.h"

namespace prochook {
namespace {

using Json = nlohmann::ordered_json;

bool IsProchookHook(const Json& hook, const std::string& binary) {
  if (!hook.is_object()) return false;
  auto path = hook.find("path");
  if (path != hook.end() && path->is_string() && path->get<std::string>() == binary) return true;
  auto args = hook.find("args");
  return args != hook.end() && args->is_array() && args->size() >= 2 && (*args)[0] == "prochook" &&
         (*args)[1] == "hook";
}

}  // namespace

Result<EditedConfig> AddProchookHooks(std::string_view config_json, const std::string& binary) {
  // Validate bounds and shape with the shared parser, then edit an
  // order-preserving copy so the runtime sees the config it was given.
  TRY_ASSIGN(nlohmann::json checked, ParseJsonObject(config_json, "config.json"), "config.json");
  TRY_ASSIGN(auto annotations, StringMapField(checked, "annotations"), "config.json");
  if (ParseOptions(annotations).disabled) return EditedConfig{HookEdit::kDisabled, ""};

  Json config = Json::parse(config_json, nullptr, /*allow_exceptions=*/false);
  if (config.contains("hooks") && !config["hooks"].is_object()) {
    return Error::Msg("config.json: \"hooks\" is not an object");
  }
  Json& hooks = config["hooks"];
  bool added = false;
  for (const char* stage : {"createRuntime", "poststop"}) {
    Json& list = hooks[stage];
    if (list.is_null()) list = Json::array();
    if (!list.is_array()) return Error::Msg(std::string("config.json: hooks.") + stage + " is not an array");
    bool present = false;
    for (const Json& h : list) present = present || IsProchookHook(h, binary);
    if (!present) {
      // The timeout of the hooks `prochook install` writes: the hook gives
      // up by itself after half of it (see hook/deadline.h).
      list.push_back(Json{{"path", binary}, {"args", {"prochook", "hook"}}, {"timeout", 10}});
      added = true;
    }
  }
  if (!added) return EditedConfig{HookEdit::kPresent, ""};
  return EditedConfig{HookEdit::kAdded, config.dump()};
}

}  // namespace prochook
