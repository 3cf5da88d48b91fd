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

bool HasLine(const std::vector<MeminfoLine>& host, std::string_view key) {
  return std::any_of(host.begin(), host.end(), [&](const MeminfoLine& l) { return l.key == key; });
}

// CommitLimit and Committed_AS (mm/util.c vm_commit_limit,
// __vm_enough_memory), which sar -r's %commit divides by MemTotal +
// SwapTotal. The kernel counts commitments host-wide only
// (vm_committed_as): no cgroup file says what the container's processes
// have reserved.
//  - CommitLimit: the host's rule applied to the container's memory. The
//    kernel's limit is (MemTotal - hugetlb) * overcommit_ratio / 100 (or
//    overcommit_kbytes) + SwapTotal; the share of RAM it allows is read
//    back from the host's own lines, so both sysctls are honoured without
//    another file: container MemTotal * that share + container SwapTotal.
//  - Committed_AS: what the container has committed and touched: anonymous
//    and shmem/tmpfs pages (each was charged to the commit count when it
//    was reserved) plus its swap in use. Reservations it never touched are
//    not counted (no file has them), so this is a lower bound of what the
//    kernel would count; never above the host's figure.
void AddCommitFields(const std::vector<MeminfoLine>& host, const MemorySnapshot& m,
                     std::map<std::string, uint64_t, std::less<>>& f) {
  const uint64_t host_total = HostValue(host, "MemTotal");
  const uint64_t hugetlb = std::min(host_total, HasLine(host, "Hugetlb")
                                                    ? HostValue(host, "Hugetlb")
                                                    : HostValue(host, "HugePages_Total") * HostValue(host, "Hugepagesize"));
  const uint64_t swap_total = f.count("SwapTotal") ? f["SwapTotal"] : HostValue(host, "SwapTotal");
  const uint64_t host_allowed = SatSub(HostValue(host, "CommitLimit"), HostValue(host, "SwapTotal"));
  const uint64_t host_ram = host_total - hugetlb;
  const uint64_t total = f["MemTotal"];
  const uint64_t allowed =
      host_ram == 0 ? total : static_cast<uint64_t>(static_cast<unsigned __int128>(total) * host_allowed / host_ram);
  f["CommitLimit"] = allowed + swap_total;
  const uint64_t swap_used = m.swap_usage ? SatSub(swap_total, f["SwapFree"]) : 0;
  f["Committed_AS"] = std::min(HostValue(host, "Committed_AS"), f["AnonPages"] + f["Shmem"] + swap_used);
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
  AddCommitFields(host, m, f);
  // Memory the hypervisor took from the host (virtio balloon): not the
  // container's, and it can exceed its MemTotal.
  f["Balloon"] = 0;
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
