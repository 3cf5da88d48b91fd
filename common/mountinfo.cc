#include "common/mountinfo.h"

#include <charconv>

#include "common/text.h"

namespace prochook {
namespace {

bool IsOctal(char c) { return c >= '0' && c <= '7'; }

// The kernel escapes space, tab, newline and backslash as \ooo.
std::string Unescape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 3 < s.size() && IsOctal(s[i + 1]) && IsOctal(s[i + 2]) &&
        IsOctal(s[i + 3])) {
      out += static_cast<char>((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0'));
      i += 3;
    } else {
      out += s[i];
    }
  }
  return out;
}

bool ParseInt(std::string_view s, int* out) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && p == s.data() + s.size();
}

}  // namespace

std::vector<MountInfo> ParseMountinfo(std::string_view text) {
  std::vector<MountInfo> mounts;
  for (std::string_view line : SplitLines(text)) {
    std::vector<std::string_view> f = SplitFields(line);
    // 36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue
    size_t sep = 6;
    while (sep < f.size() && f[sep] != "-") ++sep;
    // After "-" come fs type, source and super options.
    if (sep + 2 >= f.size()) continue;
    MountInfo m;
    if (!ParseInt(f[0], &m.mount_id) || !ParseInt(f[1], &m.parent_id)) continue;
    m.root = Unescape(f[3]);
    m.mount_point = Unescape(f[4]);
    for (size_t i = 6; i < sep; ++i) m.optional_fields.emplace_back(f[i]);
    m.fs_type = Unescape(f[sep + 1]);
    m.source = Unescape(f[sep + 2]);
    m.super_options = sep + 3 < f.size() ? std::string(f[sep + 3]) : std::string();
    mounts.push_back(std::move(m));
  }
  return mounts;
}

bool IsShared(const MountInfo& m) {
  for (const auto& f : m.optional_fields) {
    if (f.rfind("shared:", 0) == 0) return true;
  }
  return false;
}

}  // namespace prochook
