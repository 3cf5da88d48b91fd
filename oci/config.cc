#include "oci/config.h"

#include "common/io.h"
#include "oci/json.h"

namespace prochook {
namespace {

std::vector<OciHook> SetupHooks(const nlohmann::json& doc) {
  std::vector<OciHook> out;
  auto hooks = doc.find("hooks");
  if (hooks == doc.end() || !hooks->is_object()) return out;
  for (const char* stage : {"createRuntime", "prestart"}) {
    auto list = hooks->find(stage);
    if (list == hooks->end() || !list->is_array()) continue;
    for (const nlohmann::json& entry : *list) {
      if (!entry.is_object()) continue;
      auto path = entry.find("path");
      if (path == entry.end() || !path->is_string()) continue;
      OciHook h;
      h.path = path->get<std::string>();
      if (auto args = entry.find("args"); args != entry.end() && args->is_array()) {
        for (const nlohmann::json& a : *args) {
          if (a.is_string()) h.args.push_back(a.get<std::string>());
        }
      }
      if (auto t = entry.find("timeout"); t != entry.end() && t->is_number_integer() &&
                                          t->get<int64_t>() > 0 && t->get<int64_t>() < 1000000) {
        h.timeout = std::chrono::seconds(t->get<int64_t>());
      }
      out.push_back(std::move(h));
    }
  }
  return out;
}

std::vector<OciNamespace> Namespaces(const nlohmann::json& doc) {
  std::vector<OciNamespace> out;
  auto linux_obj = doc.find("linux");
  if (linux_obj == doc.end() || !linux_obj->is_object()) return out;
  auto list = linux_obj->find("namespaces");
  if (list == linux_obj->end() || !list->is_array()) return out;
  for (const nlohmann::json& entry : *list) {
    if (!entry.is_object()) continue;
    auto type = entry.find("type");
    if (type == entry.end() || !type->is_string()) continue;
    OciNamespace ns{type->get<std::string>(), std::nullopt};
    if (auto path = entry.find("path"); path != entry.end() && path->is_string() &&
                                        !path->get<std::string>().empty()) {
      ns.path = path->get<std::string>();
    }
    out.push_back(std::move(ns));
  }
  return out;
}

}  // namespace

Result<OciConfig> ParseConfig(std::string_view text) {
  TRY_ASSIGN(nlohmann::json doc, ParseJsonObject(text, "config.json"), "config.json");
  OciConfig c;
  auto root = doc.find("root");
  if (root == doc.end() || !root->is_object()) {
    return Error::Msg("config.json: missing \"root\" object");
  }
  TRY_ASSIGN(auto path, StringField(*root, "path"), "config.json: root");
  if (!path || path->empty()) return Error::Msg("config.json: missing \"root.path\"");
  c.root_path = *path;
  TRY_ASSIGN(c.annotations, StringMapField(doc, "annotations"), "config.json");
  c.setup_hooks = SetupHooks(doc);
  c.namespaces = Namespaces(doc);
  return c;
}

std::string ResolveRootPath(const std::string& bundle, const std::string& root_path) {
  if (!root_path.empty() && root_path.front() == '/') return root_path;
  std::string base = bundle;
  while (base.size() > 1 && base.back() == '/') base.pop_back();
  return base + "/" + root_path;
}

Result<OciConfig> LoadConfig(const std::string& bundle) {
  TRY_ASSIGN(std::string text, ReadFile(bundle + "/config.json", kMaxDocumentBytes),
             "loading config.json");
  return ParseConfig(text);
}

}  // namespace prochook
