#include "oci/json.h"

namespace prochook {
namespace {

// nlohmann's parser recurses once per nesting level; reject deep documents
// before parsing so hostile input cannot exhaust the stack.
bool DepthWithin(std::string_view text, int max_depth) {
  int depth = 0;
  bool in_string = false;
  bool escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped) escaped = false;
      else if (c == '\\') escaped = true;
      else if (c == '"') in_string = false;
      continue;
    }
    if (c == '"') in_string = true;
    else if (c == '{' || c == '[') {
      if (++depth > max_depth) return false;
    } else if (c == '}' || c == ']') {
      --depth;
    }
  }
  return true;
}

}  // namespace

Result<nlohmann::json> ParseJsonObject(std::string_view text, const std::string& what) {
  if (text.size() > kMaxDocumentBytes) {
    return Error::Msg(what + ": larger than " + std::to_string(kMaxDocumentBytes) + " bytes");
  }
  if (!DepthWithin(text, kMaxDocumentDepth)) {
    return Error::Msg(what + ": nested deeper than " + std::to_string(kMaxDocumentDepth));
  }
  nlohmann::json doc = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) {
    return Error::Msg(what + ": not valid JSON" + (text.empty() ? " (empty input)" : ""));
  }
  if (!doc.is_object()) return Error::Msg(what + ": not a JSON object");
  return doc;
}

Result<std::optional<std::string>> StringField(const nlohmann::json& obj, const char* key) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return std::optional<std::string>();
  if (!it->is_string()) return Error::Msg(std::string("field \"") + key + "\" is not a string");
  return std::optional<std::string>(it->get<std::string>());
}

Result<std::optional<int64_t>> IntField(const nlohmann::json& obj, const char* key) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return std::optional<int64_t>();
  if (it->is_number_unsigned()) {
    if (it->get<uint64_t>() > static_cast<uint64_t>(INT64_MAX)) {
      return Error::Msg(std::string("field \"") + key + "\" is out of range");
    }
    return std::optional<int64_t>(static_cast<int64_t>(it->get<uint64_t>()));
  }
  if (!it->is_number_integer()) {
    return Error::Msg(std::string("field \"") + key + "\" is not an integer");
  }
  return std::optional<int64_t>(it->get<int64_t>());
}

Result<std::map<std::string, std::string>> StringMapField(const nlohmann::json& obj,
                                                          const char* key) {
  std::map<std::string, std::string> out;
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return out;
  if (!it->is_object()) return Error::Msg(std::string("field \"") + key + "\" is not an object");
  for (const auto& [k, v] : it->items()) {
    if (!v.is_string()) {
      return Error::Msg(std::string("field \"") + key + "." + k + "\" is not a string");
    }
    out.emplace(k, v.get<std::string>());
  }
  return out;
}

}  // namespace prochook
