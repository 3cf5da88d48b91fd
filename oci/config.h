// The bundle's config.json (runtime-spec config.md). Only the fields
// prochook uses.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "common/result.h"

namespace prochook {

struct OciConfig {
  std::string root_path;  // as written: absolute, or relative to the bundle
  std::map<std::string, std::string> annotations;
};

Result<OciConfig> ParseConfig(std::string_view text);

// root.path made absolute: relative paths are relative to the bundle.
std::string ResolveRootPath(const std::string& bundle, const std::string& root_path);

// Reads and parses <bundle>/config.json.
Result<OciConfig> LoadConfig(const std::string& bundle);

}  // namespace prochook
