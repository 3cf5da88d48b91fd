#include "nri/plugin_config.h"

#include "common/text.h"

namespace prochook::nri {

Result<PluginConfig> ParsePluginConfig(std::string_view text, const PluginConfig& base) {
  PluginConfig config = base;
  int number = 0;
  for (std::string_view line : SplitLines(text)) {
    ++number;
    // A file written on Windows ends its lines "\r\n".
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    line = Trim(line.substr(0, line.find('#')));
    if (line.empty()) continue;
    const std::string where = "plugin configuration line " + std::to_string(number);
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos) return Error::Msg(where + ": expected \"key: value\"");
    const std::string_view key = Trim(line.substr(0, colon));
    const std::string_view value = Trim(line.substr(colon + 1));
    if (key == "sysinfo") {
      if (value != "on" && value != "off") return Error::Msg(where + ": sysinfo must be on or off");
      config.sysinfo = value == "on";
      continue;
    }
    if (key != "prochook") return Error::Msg(where + ": unknown key \"" + std::string(key) + "\"");
    if (value.empty() || value[0] != '/') {
      return Error::Msg(where + ": prochook must be an absolute path");
    }
    config.prochook = std::string(value);
  }
  return config;
}

}  // namespace prochook::nri
