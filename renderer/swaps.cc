#include "renderer/swaps.h"

#include <algorithm>
#include <cstdio>

#include "common/text.h"

namespace prochook {
namespace {

constexpr char kHeader[] = "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n";
constexpr char kName[] = "none";

}  // namespace

std::string RenderSwaps(std::string_view host_swaps, const std::optional<MemorySnapshot>& memory,
                        bool show_swap) {
  std::string out = kHeader;
  if (!show_swap || !memory || !memory->swap_usage) return out;
  if (memory->swap_limit && *memory->swap_limit == 0) return out;

  // Host entries follow the header; Size (KiB) is the third field.
  auto lines = SplitLines(host_swaps);
  bool host_has_swap = false;
  uint64_t host_kib = 0;
  for (size_t i = 1; i < lines.size(); ++i) {
    auto f = SplitFields(lines[i]);
    if (f.size() < 3) continue;
    host_has_swap = true;
    host_kib = SatAdd(host_kib, ParseU64(f[2]).value_or(0));
  }
  if (!host_has_swap) return out;

  const uint64_t size = std::min(memory->swap_limit.value_or(UINT64_MAX) / 1024, host_kib);
  const uint64_t used = std::min(*memory->swap_usage / 1024, size);
  // "%*s%s\t%lu\t%s%lu\t%s%d\n" after the path: padding to column 40, and a
  // second tab after numbers short enough to leave the columns aligned.
  const int len = sizeof kName - 1;
  char buf[160];
  std::snprintf(buf, sizeof buf, "%s%*s%s\t%llu\t%s%llu\t%s%d\n", kName, len < 40 ? 40 - len : 1,
                " ", "partition", static_cast<unsigned long long>(size),
                size < 10000000 ? "\t" : "", static_cast<unsigned long long>(used),
                used < 10000000 ? "\t" : "", -2);
  return out + buf;
}

}  // namespace prochook
