// The plugin's own settings: command-line flags, then the configuration
// the runtime hands over in Configure (for a plugin the runtime starts
// from its plugin_path, whose only input is that: containerd reads it
// from plugin_config_path, <idx>-<name>.conf or <name>.conf).
#pragma once

#include <string>
#include <string_view>

#include "common/result.h"
#include "state/record.h"

namespace prochook::nri {

inline constexpr char kDefaultProchook[] = "/usr/local/bin/prochook";

struct PluginConfig {
  std::string prochook = kDefaultProchook;  // the binary the hooks run
  // Where the agents' state directories are made (--run-dir, for tests:
  // the hooks are then given it too).
  std::string run_dir = kDefaultRunDir;
  // Whether sysinfo(2) is trapped for an agent where the runtime sends a
  // seccomp policy (off: the hooks alone, for a runtime whose validator
  // rejects seccomp adjustments).
  bool sysinfo = true;
};

// Pure. Lines "prochook: /path/to/prochook" and "sysinfo: on|off" (a YAML
// mapping's subset, as NRI plugin configurations usually are), blank
// lines and # comments; keys not given keep base's value. An unknown
// key, a line without ':', a relative path or another sysinfo value is an
// error naming the line.
Result<PluginConfig> ParsePluginConfig(std::string_view text, const PluginConfig& base);

}  // namespace prochook::nri
