#include "renderer/vmstat.h"

#include <algorithm>
#include <initializer_list>

#include "common/text.h"

namespace prochook {
namespace {

// The nr_* lines that count events (node_stat_item's cumulative ones).
constexpr std::string_view kNrCounters[] = {
    "nr_vmscan_write", "nr_vmscan_immediate_reclaim", "nr_dirtied", "nr_written",
    "nr_throttled_written", "nr_foll_pin_acquired", "nr_foll_pin_released"};

// Gauges that describe the host, not anyone's usage: what meminfo's
// HugePages_* and CommitLimit are to it.
constexpr std::string_view kHostSettings[] = {
    "nr_dirty_threshold", "nr_dirty_background_threshold", "nr_memmap_pages", "nr_memmap_boot_pages",
    "nr_hugetlb", "nr_balloon_pages", "nr_unaccepted"};

template <size_t N>
bool OneOf(std::string_view key, const std::string_view (&set)[N]) {
  return std::find(std::begin(set), std::end(set), key) != std::end(set);
}

enum class Unit { kPages, kKiB, kHugePages };

// A gauge from memory.stat amounts (bytes), summed.
struct GaugeSource {
  std::string_view key;
  std::initializer_list<const char*> stat;
  Unit unit;
};

// memcontrol.c memory_stat_format's amounts -> the node and zone items of
// vmstat_text that count the same pages (nr_zone_* is the node's figure
// split by zone; a cgroup has no zones, so the sum is the node's).
const GaugeSource kGauges[] = {
    {"nr_zone_inactive_anon", {"inactive_anon"}, Unit::kPages},
    {"nr_zone_active_anon", {"active_anon"}, Unit::kPages},
    {"nr_zone_inactive_file", {"inactive_file"}, Unit::kPages},
    {"nr_zone_active_file", {"active_file"}, Unit::kPages},
    {"nr_zone_unevictable", {"unevictable"}, Unit::kPages},
    {"nr_zone_write_pending", {"file_dirty", "file_writeback"}, Unit::kPages},
    {"nr_inactive_anon", {"inactive_anon"}, Unit::kPages},
    {"nr_active_anon", {"active_anon"}, Unit::kPages},
    {"nr_inactive_file", {"inactive_file"}, Unit::kPages},
    {"nr_active_file", {"active_file"}, Unit::kPages},
    {"nr_unevictable", {"unevictable"}, Unit::kPages},
    {"nr_slab_reclaimable", {"slab_reclaimable"}, Unit::kPages},
    {"nr_slab_unreclaimable", {"slab_unreclaimable"}, Unit::kPages},
    {"nr_anon_pages", {"anon"}, Unit::kPages},
    {"nr_mapped", {"file_mapped"}, Unit::kPages},
    {"nr_file_pages", {"file"}, Unit::kPages},
    {"nr_dirty", {"file_dirty"}, Unit::kPages},
    {"nr_writeback", {"file_writeback"}, Unit::kPages},
    {"nr_shmem", {"shmem"}, Unit::kPages},
    {"nr_shmem_hugepages", {"shmem_thp"}, Unit::kHugePages},
    {"nr_file_hugepages", {"file_thp"}, Unit::kHugePages},
    {"nr_anon_transparent_hugepages", {"anon_thp"}, Unit::kHugePages},
    {"nr_kernel_stack", {"kernel_stack"}, Unit::kKiB},  // NR_KERNEL_STACK_KB
    {"nr_page_table_pages", {"pagetables"}, Unit::kPages},
    {"nr_sec_page_table_pages", {"sec_pagetables"}, Unit::kPages},
    {"nr_swapcached", {"swapcached"}, Unit::kPages},
};

uint64_t StatBytes(const MemorySnapshot& m, const char* key) {
  auto it = m.stat.find(key);
  return it == m.stat.end() ? 0 : it->second;
}

// The container's figure for a gauge, in the line's unit; 0 where the
// cgroup cannot split the host's usage.
uint64_t ContainerGauge(std::string_view key, const VmstatInput& in) {
  const uint64_t page = std::max<uint64_t>(in.page_size, 1);
  if (key == "nr_free_pages") {
    // meminfo's MemFree: the limit less the usage, never below 0.
    const uint64_t usage_kb = in.memory ? in.memory->usage / 1024 : 0;
    return SatSub(*in.mem_total_kb, usage_kb) * 1024 / page;
  }
  if (!in.memory) return 0;
  for (const GaugeSource& g : kGauges) {
    if (g.key != key) continue;
    uint64_t bytes = 0;
    for (const char* s : g.stat) bytes = SatAdd(bytes, StatBytes(*in.memory, s));
    switch (g.unit) {
      case Unit::kPages: return bytes / page;
      case Unit::kKiB: return bytes / 1024;
      // A PMD-sized page: a page table of page/8 entries of pages
      // (HPAGE_PMD_SIZE: 2 MiB with 4 KiB pages, 512 MiB with 64 KiB).
      case Unit::kHugePages: return bytes / (page * (page / 8));
    }
  }
  return 0;
}

// The container's figure for a counter, or nullopt when its source cannot
// be read this time (or never could).
std::optional<uint64_t> ContainerCounter(const std::string& key, const VmstatInput& in) {
  // mm/vmstat.c prints PGPGIN/PGPGOUT (counted in 512-byte sectors by
  // submit_bio) halved: KiB.
  if (key == "pgpgin") return in.io_read_bytes ? std::optional<uint64_t>(*in.io_read_bytes / 1024) : std::nullopt;
  if (key == "pgpgout") return in.io_write_bytes ? std::optional<uint64_t>(*in.io_write_bytes / 1024) : std::nullopt;
  if (!in.memory) return std::nullopt;
  auto it = in.memory->stat.find(key);
  if (it == in.memory->stat.end()) return std::nullopt;
  return it->second;
}

}  // namespace

std::vector<VmstatLine> ParseVmstat(std::string_view text) {
  std::vector<VmstatLine> out;
  for (std::string_view line : SplitLines(text)) {
    auto f = SplitFields(line);
    if (f.size() != 2) continue;
    if (auto v = ParseU64(f[1])) out.push_back({std::string(f[0]), *v});
  }
  return out;
}

bool IsVmstatCounter(std::string_view key) {
  if (key.substr(0, 3) == "nr_") return OneOf(key, kNrCounters);
  return key != "workingset_nodes";
}

void VmstatState::Seed(std::string_view previous) {
  tracks_.clear();
  for (const VmstatLine& l : ParseVmstat(previous)) {
    if (IsVmstatCounter(l.key)) tracks_[l.key].emitted = l.value;
  }
}

uint64_t VmstatState::Update(const std::string& key, uint64_t raw) {
  Track& t = tracks_[key];
  if (!t.read) {
    // First figure (of this renderer): continue from what was emitted.
    t.offset = SatSub(t.emitted, raw);
  } else if (raw < t.raw) {
    t.offset = SatAdd(t.offset, t.raw - raw);
  }
  t.raw = raw;
  t.read = true;
  t.emitted = std::max(t.emitted, SatAdd(raw, t.offset));
  return t.emitted;
}

uint64_t VmstatState::Last(const std::string& key) const {
  auto it = tracks_.find(key);
  return it == tracks_.end() ? 0 : it->second.emitted;
}

std::string RenderVmstat(std::string_view host, const VmstatInput& in, VmstatState& state) {
  std::string out;
  for (const VmstatLine& l : ParseVmstat(host)) {
    uint64_t v;
    if (IsVmstatCounter(l.key)) {
      auto figure = ContainerCounter(l.key, in);
      v = figure ? state.Update(l.key, *figure) : state.Last(l.key);
    } else if (!in.mem_total_kb || OneOf(l.key, kHostSettings)) {
      v = l.value;
    } else {
      v = ContainerGauge(l.key, in);
    }
    out += l.key;
    out += ' ';
    out += std::to_string(v);
    out += '\n';
  }
  return out;
}

}  // namespace prochook
