// Small pure helpers for the line-and-field text of /proc and /sys.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace prochook {

// Lines without their '\n'; a final line without '\n' is kept, an empty
// trailing piece is not.
std::vector<std::string_view> SplitLines(std::string_view text);
// Fields separated by runs of spaces or tabs.
std::vector<std::string_view> SplitFields(std::string_view line);
std::vector<std::string_view> Split(std::string_view text, char sep);
std::string_view Trim(std::string_view s);
// Split, trimmed, empty parts dropped: "a, b,,c" -> {"a", "b", "c"}.
std::vector<std::string> SplitToStrings(std::string_view text, char sep);

// A whole unsigned decimal; nullopt on anything else (sign, junk, overflow).
std::optional<uint64_t> ParseU64(std::string_view s);

// Saturating arithmetic for counters and sizes.
inline uint64_t SatSub(uint64_t a, uint64_t b) { return a > b ? a - b : 0; }
inline uint64_t SatAdd(uint64_t a, uint64_t b) { return a + b < a ? UINT64_MAX : a + b; }

}  // namespace prochook
