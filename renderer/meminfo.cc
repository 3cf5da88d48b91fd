#include "renderer/meminfo.h"

#include <algorithm>
#include <map>

#include "common/text.h"

namespace prochook {
namespace {

uint64_t Stat(const MemorySnapshot& m, const char* key) {
  auto it = m.stat.find(key);
  return it == m.stat.end() ? 0 : it->second;
}

uint64_t HostValue(const std::vector<MeminfoLine>& host, std::string_view key) {
  for (const auto& l : host) {
    if (l.key == key) return l.value;
  }
  return 0;
}

// Every field the container's cgroup accounts for, in kB. Fields that are
// per-host usage the cgroup cannot split (Buffers, Mlocked, Bounce, ...)
// are 0: the host's figure would describe other containers.
std::map<std::string, uint64_t, std::less<>> ContainerFields(
    const std::vector<MeminfoLine>& host, const MemorySnapshot& m, uint64_t total_kb) {
  const uint64_t usage_kb = std::min(m.usage / 1024, total_kb);
  const auto kb = [&](const char* key) { return std::min(Stat(m, key) / 1024, total_kb); };
  const uint64_t mem_free = total_kb - usage_kb;
  const uint64_t active_file = kb("active_file"), inactive_file = kb("inactive_file");
  const uint64_t active_anon = kb("active_anon"), inactive_anon = kb("inactive_anon");
  const uint64_t s_reclaimable = kb("slab_reclaimable"), s_unreclaim = kb("slab_unreclaimable");
  const uint64_t swap_cached = kb("swapcached");

  std::map<std::string, uint64_t, std::less<>> f = {
      {"MemTotal", total_kb},
      {"MemFree", mem_free},
      // What could be had without swapping: free plus reclaimable page cache
      // and slab (shmem lives on the anon lists, so it is not counted).
      {"MemAvailable", std::min(total_kb, mem_free + active_file + inactive_file + s_reclaimable)},
      {"Buffers", 0},
      {"Cached", SatSub(kb("file"), swap_cached)},
      {"SwapCached", swap_cached},
      {"Active", std::min(total_kb, active_anon + active_file)},
      {"Inactive", std::min(total_kb, inactive_anon + inactive_file)},
      {"Active(anon)", active_anon},
      {"Inactive(anon)", inactive_anon},
      {"Active(file)", active_file},
      {"Inactive(file)", inactive_file},
      {"Unevictable", kb("unevictable")},
      {"Mlocked", 0},
      {"Zswap", kb("zswap")},
      {"Zswapped", kb("zswapped")},
      {"Dirty", kb("file_dirty")},
      {"Writeback", kb("file_writeback")},
      {"AnonPages", kb("anon")},
      {"Mapped", kb("file_mapped")},
      {"Shmem", kb("shmem")},
      {"KReclaimable", s_reclaimable},
      {"Slab", std::min(total_kb, s_reclaimable + s_unreclaim)},
      {"SReclaimable", s_reclaimable},
      {"SUnreclaim", s_unreclaim},
      {"KernelStack", kb("kernel_stack")},
      {"PageTables", kb("pagetables")},
      {"SecPageTables", kb("sec_pagetables")},
      {"NFS_Unstable", 0},
      {"Bounce", 0},
      {"WritebackTmp", 0},
      {"Percpu", kb("percpu")},
      {"AnonHugePages", kb("anon_thp")},
      {"ShmemHugePages", kb("shmem_thp")},
      {"ShmemPmdMapped", 0},
      {"FileHugePages", kb("file_thp")},
      {"FilePmdMapped", 0},
  };

  // Swap: the container's own when the cgroup accounts for it, never more
  // than the host has; the host's when it does not (swapaccount=0).
  const uint64_t host_swap_total = HostValue(host, "SwapTotal");
  if (m.swap_usage) {
    const uint64_t swap_total =
        std::min(host_swap_total, m.swap_limit ? *m.swap_limit / 1024 : host_swap_total);
    f["SwapTotal"] = swap_total;
    f["SwapFree"] = swap_total - std::min(swap_total, *m.swap_usage / 1024);
  }
  return f;
}

}  // namespace

std::vector<MeminfoLine> ParseMeminfo(std::string_view text) {
  std::vector<MeminfoLine> lines;
  for (std::string_view line : SplitLines(text)) {
    size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) continue;
    auto f = SplitFields(line.substr(colon + 1));
    if (f.empty() || f.size() > 2 || (f.size() == 2 && f[1] != "kB")) continue;
    auto v = ParseU64(f[0]);
    if (!v) continue;
    lines.push_back({std::string(line.substr(0, colon)), *v, f.size() == 2});
  }
  return lines;
}

std::string FormatMeminfo(const std::vector<MeminfoLine>& lines) {
  std::string out;
  out.reserve(lines.size() * 32);
  for (const auto& l : lines) {
    std::string label = l.key + ":";
    if (label.size() < 16) label.append(16 - label.size(), ' ');
    // Sizes: "%8lu kB"; counts (HugePages_*): "   %5lu".
    std::string value = std::to_string(l.value);
    const size_t width = l.kb ? 8 : 5;
    out += label;
    if (!l.kb) out += "   ";
    if (value.size() < width) out.append(width - value.size(), ' ');
    out += value;
    out += l.kb ? " kB\n" : "\n";
  }
  return out;
}

std::optional<uint64_t> ContainerMemTotalKb(const std::vector<MeminfoLine>& host,
                                            const std::optional<MemorySnapshot>& memory) {
  if (!memory || !memory->limit || *memory->limit / 1024 >= HostValue(host, "MemTotal")) return std::nullopt;
  return *memory->limit / 1024;
}

std::string RenderMeminfo(const std::vector<MeminfoLine>& host,
                          const std::optional<MemorySnapshot>& memory) {
  const std::optional<uint64_t> total_kb = ContainerMemTotalKb(host, memory);
  if (!total_kb) return FormatMeminfo(host);
  const auto fields = ContainerFields(host, *memory, *total_kb);
  std::vector<MeminfoLine> out = host;
  for (auto& l : out) {
    if (auto it = fields.find(l.key); it != fields.end()) l.value = it->second;
  }
  return FormatMeminfo(out);
}

}  // namespace prochook
