#include "oci/options.h"

#include <charconv>
#include <cmath>

namespace prochook {

Result<std::chrono::milliseconds> ParseDuration(std::string_view text) {
  const std::string orig(text);
  double number = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), number);
  if (ec != std::errc() || end == text.data()) {
    return Error::Msg("duration \"" + orig + "\": expected a number with a unit (e.g. 250ms, 1s)");
  }
  std::string_view unit(end, static_cast<size_t>(text.data() + text.size() - end));
  double ms;
  if (unit == "ms") ms = number;
  else if (unit == "s") ms = number * 1000;
  else if (unit == "m") ms = number * 60000;
  else return Error::Msg("duration \"" + orig + "\": unit must be ms, s or m");
  if (!std::isfinite(ms) || ms < 10 || ms > 3600000) {
    return Error::Msg("duration \"" + orig + "\": must be between 10ms and 1h");
  }
  return std::chrono::milliseconds(static_cast<int64_t>(std::llround(ms)));
}

Options ParseOptions(const std::map<std::string, std::string>& annotations) {
  Options o;
  if (auto it = annotations.find(kAnnotationDisable); it != annotations.end()) {
    if (it->second == "true" || it->second == "1") o.disabled = true;
    else if (it->second != "false" && it->second != "0")
      o.warnings.push_back(std::string(kAnnotationDisable) + "=\"" + it->second +
                           "\": expected true or false");
  }
  if (auto it = annotations.find(kAnnotationInterval); it != annotations.end()) {
    auto d = ParseDuration(it->second);
    if (d) o.interval = *d;
    else o.warnings.push_back(std::string(kAnnotationInterval) + ": " + d.error().message());
  }
  if (auto it = annotations.find(kAnnotationPolicy); it != annotations.end()) {
    if (it->second == "fail-open") o.policy = FailPolicy::kOpen;
    else if (it->second == "fail-closed") o.policy = FailPolicy::kClosed;
    else o.warnings.push_back(std::string(kAnnotationPolicy) + "=\"" + it->second +
                              "\": expected fail-open or fail-closed");
  }
  return o;
}

}  // namespace prochook
