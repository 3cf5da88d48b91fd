// The plugin's own settings: command-line flags, then the configuration
// the runtime hands over in Configure (for a plugin the runtime starts
// from its plugin_path, whose only input is that: containerd reads it
// from plugin_config_path, <idx>-<name>.conf or <name>.conf).
#pragma once

#include <string>
#include <string_view>

#include "common/result.h"

namespace prochook::nri {

inline constexpr char kDefaultProchook[] = "/usr/local/bin/prochook";

struct PluginConfig {
  std::string prochook = kDefaultProchook;  // the binary the hooks run
};

// Pure. Lines "prochook: /path/to/prochook" (a YAML mapping's subset, as
// NRI plugin configurations usually are), blank lines and # comments;
// keys not given keep base's value. An unknown key, a line without ':'
// or a relative path is an error naming the line.
Result<PluginConfig> ParsePluginConfig(std::string_view text, const PluginConfig& base);

}  // namespace prochook::nri
