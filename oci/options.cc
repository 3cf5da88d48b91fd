#include "oci/options.h"

#include <charconv>
#include <algorithm>
#include <cmath>

namespace prochook {
namespace {

// A two-valued annotation: sets *out when the value is one of the two.
void ParseChoice(const std::map<std::string, std::string>& annotations, const char* key,
                 const char* no, const char* yes, bool* out, std::vector<std::string>* warnings) {
  auto it = annotations.find(key);
  if (it == annotations.end()) return;
  if (it->second == yes) *out = true;
  else if (it->second == no) *out = false;
  else warnings->push_back(std::string(key) + "=\"" + it->second + "\": expected " + no + " or " + yes);
}

}  // namespace

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
  if (auto it = annotations.find(kAnnotationIdle); it != annotations.end()) {
    auto d = it->second == "off" ? Result<std::chrono::milliseconds>(std::chrono::milliseconds(0))
                                 : ParseDuration(it->second);
    if (d) o.idle = *d;
    else o.warnings.push_back(std::string(kAnnotationIdle) + ": " + d.error().message() + " (or off)");
  }
  if (auto it = annotations.find(kAnnotationPolicy); it != annotations.end()) {
    if (it->second == "fail-open") o.policy = FailPolicy::kOpen;
    else if (it->second == "fail-closed") o.policy = FailPolicy::kClosed;
    else o.warnings.push_back(std::string(kAnnotationPolicy) + "=\"" + it->second +
                              "\": expected fail-open or fail-closed");
  }
  if (auto it = annotations.find(kAnnotationFiles); it != annotations.end()) {
    std::vector<std::string> files;
    std::string bad;
    size_t start = 0;
    while (start <= it->second.size()) {
      size_t comma = it->second.find(',', start);
      if (comma == std::string::npos) comma = it->second.size();
      std::string name = it->second.substr(start, comma - start);
      start = comma + 1;
      if (name.empty()) continue;
      const auto& all = AllFileNames();
      if (std::find(all.begin(), all.end(), name) == all.end()) bad += (bad.empty() ? "" : ", ") + name;
      else if (std::find(files.begin(), files.end(), name) == files.end()) files.push_back(name);
    }
    if (!bad.empty()) {
      o.warnings.push_back(std::string(kAnnotationFiles) + ": unknown file(s) " + bad +
                           "; serving all files");
    } else {
      o.files = files;
    }
  }
  ParseChoice(annotations, kAnnotationCpuView, "cpuset", "quota", &o.cpu_view_quota, &o.warnings);
  ParseChoice(annotations, kAnnotationSwap, "zero", "show", &o.show_swap, &o.warnings);
  ParseChoice(annotations, kAnnotationUptime, "host", "container", &o.container_uptime,
              &o.warnings);
  ParseChoice(annotations, kAnnotationFirstRead, "periodic", "fresh", &o.fresh_reads, &o.warnings);
  ParseChoice(annotations, kAnnotationSysinfo, "off", "on", &o.sysinfo, &o.warnings);
  ParseChoice(annotations, kAnnotationTimens, "off", "on", &o.timens, &o.warnings);
  return o;
}

}  // namespace prochook
