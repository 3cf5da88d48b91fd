// Safe entry to nlohmann/json: bounded size and depth, no exceptions out.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/result.h"

namespace prochook {

inline constexpr size_t kMaxDocumentBytes = 16 << 20;
inline constexpr int kMaxDocumentDepth = 64;

// Parses a JSON object; `what` names the document in errors ("OCI state").
Result<nlohmann::json> ParseJsonObject(std::string_view text, const std::string& what);

// Field accessors for lenient parsing: a missing field is nullopt, a field
// of the wrong type is an error naming the field.
Result<std::optional<std::string>> StringField(const nlohmann::json& obj, const char* key);
Result<std::optional<int64_t>> IntField(const nlohmann::json& obj, const char* key);
// An object of string values (annotations); missing is empty.
Result<std::map<std::string, std::string>> StringMapField(const nlohmann::json& obj,
                                                          const char* key);

}  // namespace prochook
