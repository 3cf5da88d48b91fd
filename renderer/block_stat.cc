#include "renderer/block_stat.h"

#include <algorithm>
#include <cstdio>

#include "common/text.h"

namespace prochook {

std::vector<std::string> SelectBlockDevices(std::string_view host_diskstats, size_t cap) {
  std::vector<std::string> active, idle;
  for (std::string_view line : SplitLines(host_diskstats)) {
    auto f = SplitFields(line);
    if (f.size() < 4 || !ParseU64(f[0]) || !ParseU64(f[1])) continue;
    const std::string_view name = f[2];
    if (name == "." || name == ".." || name.find('/') != std::string_view::npos) continue;
    const bool used = std::any_of(f.begin() + 3, f.end(), [](std::string_view v) { return v != "0"; });
    (used ? active : idle).emplace_back(name);
  }
  active.insert(active.end(), idle.begin(), idle.end());
  if (active.size() > cap) active.resize(cap);
  return active;
}

std::string RenderBlockStat(const DiskCounters& disk) {
  // Linux has printed 11, 15 and 17 fields; a count it never printed is
  // taken as the nearest it did not exceed.
  const size_t n = disk.host_fields >= 17 ? 17 : disk.host_fields >= 15 ? 15 : 11;
  std::string out;
  for (size_t i = 0; i < n; ++i) {
    char buf[32];
    std::snprintf(buf, sizeof buf, i == 0 ? "%8llu" : " %8llu", static_cast<unsigned long long>(disk.fields[i]));
    out += buf;
  }
  out += '\n';
  return out;
}

}  // namespace prochook
