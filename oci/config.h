// The bundle's config.json (runtime-spec config.md). Only the fields
// prochook uses.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace prochook {

// A hook entry of config.json (path, args, timeout in seconds).
struct OciHook {
  std::string path;
  std::vector<std::string> args;
  std::optional<std::chrono::seconds> timeout;  // unset: the runtime waits forever
};

// An entry of linux.namespaces: a new namespace, or the one at path.
struct OciNamespace {
  std::string type;                 // "pid", "time", ...
  std::optional<std::string> path;  // join this one instead of a new one
};

struct OciConfig {
  std::string root_path;  // as written: absolute, or relative to the bundle
  std::map<std::string, std::string> annotations;
  // The hooks of the stages prochook sets up in (createRuntime, prestart).
  // The runtime validated them; entries prochook cannot read are left out.
  std::vector<OciHook> setup_hooks;
  // linux.namespaces; entries without a string type are left out.
  std::vector<OciNamespace> namespaces;
};

Result<OciConfig> ParseConfig(std::string_view text);

// root.path made absolute: relative paths are relative to the bundle.
std::string ResolveRootPath(const std::string& bundle, const std::string& root_path);

// Reads and parses <bundle>/config.json.
Result<OciConfig> LoadConfig(const std::string& bundle);

}  // namespace prochook
