#include "oci/config.h"

#include "common/io.h"
#include "oci/json.h"

namespace prochook {

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
