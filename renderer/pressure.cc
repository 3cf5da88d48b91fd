#include "renderer/pressure.h"

#include "common/io.h"
#include "common/text.h"

namespace prochook {
namespace {

// "%lu.%02lu": digits, a dot, exactly two digits.
bool IsAverage(std::string_view s) {
  size_t dot = s.find('.');
  return dot != std::string_view::npos && ParseU64(s.substr(0, dot)) &&
         s.size() - dot - 1 == 2 && ParseU64(s.substr(dot + 1));
}

bool IsPressureLine(std::string_view line, std::string_view kind) {
  auto f = SplitFields(line);
  if (f.size() != 5 || f[0] != kind) return false;
  static constexpr std::string_view kAvgKeys[] = {"avg10=", "avg60=", "avg300="};
  for (size_t i = 0; i < 3; ++i) {
    if (f[i + 1].substr(0, kAvgKeys[i].size()) != kAvgKeys[i] ||
        !IsAverage(f[i + 1].substr(kAvgKeys[i].size()))) {
      return false;
    }
  }
  return f[4].substr(0, 6) == "total=" && ParseU64(f[4].substr(6)).has_value();
}

bool IsResource(std::string_view r) { return r == "cpu" || r == "memory" || r == "io"; }

}  // namespace

bool ValidatePressure(std::string_view text, std::string_view resource) {
  if (!IsResource(resource)) return false;
  if (text.empty() || text.back() != '\n') return false;
  auto lines = SplitLines(text);
  const size_t min_lines = resource == "cpu" ? 1 : 2;
  if (lines.size() < min_lines || lines.size() > 2) return false;
  if (!IsPressureLine(lines[0], "some")) return false;
  return lines.size() == 1 || IsPressureLine(lines[1], "full");
}

std::optional<std::string> ReadPressure(const CgroupDir& cg, std::string_view resource, FileReader& reader) {
  if (cg.version != 2 || !IsResource(resource)) return std::nullopt;
  auto text = reader.Read(cg.dir + "/" + std::string(resource) + ".pressure");
  if (!text || !ValidatePressure(*text, resource)) return std::nullopt;
  return std::move(*text);
}

}  // namespace prochook
