// /proc/vmstat for a container (mm/vmstat.c vmstat_text). The host's file is
// the template: every line, in its order, so a tool never misses a key it
// looks up. What each line shows:
// - pgpgin, pgpgout (KiB read from / written to block devices: vmstat bi/bo,
//   sar -B pgpgin/s pgpgout/s): the cgroup's block I/O, v1 blkio.throttle
//   io_service_bytes{_recursive,}, v2 io.stat rbytes/wbytes, summed over its
//   devices (I/O through a stacked device, dm or loop, counts at each layer
//   the cgroup is charged on).
// - Every other event counter memory.stat has under the same name: pgfault,
//   pgmajfault (v1 total_pgfault, total_pgmajfault), pswpin, pswpout (v2,
//   kernels since 2024; not 6.1), pgscan_*, pgsteal_*, pgrefill,
//   pgactivate, pgdeactivate, pglazyfree(d), workingset_* (v1
//   total_workingset_refault_*), thp_*, zswp*, swp*_zero, numa_*,
//   pgdemote_*, pgpromote_success (Documentation/admin-guide/cgroup-v2.rst
//   "memory.stat"). v1's pgpgin and pgpgout count pages charged to the
//   cgroup, not I/O: never used.
// - Event counters the cgroup does not have (pgfree, pgalloc_*,
//   allocstall_*, pgscan_anon/file, compact_*, oom_kill, ...; pswpin and
//   pswpout on v1 and older v2 kernels): 0. A host figure there would be
//   other containers' activity.
// - Every counter is monotonic: a figure that goes down (v1's total_* and
//   blkio's _recursive sums lose a removed child cgroup) adds the drop to an
//   offset, so later deltas stay right; a figure that cannot be read this
//   time keeps its last value.
// - Gauges (nr_*, workingset_nodes) follow /proc/meminfo: where it shows the
//   container's memory, the memory.stat amounts in pages (nr_anon_pages anon,
//   nr_file_pages file, nr_{in,}active_{anon,file} and their nr_zone_ twins,
//   nr_dirty, nr_writeback, nr_shmem, nr_mapped, nr_slab_*, nr_kernel_stack
//   in kB, nr_page_table_pages, nr_swapcached, the THP gauges in huge
//   pages), nr_free_pages = MemFree; host-wide settings pass through
//   (nr_dirty_threshold, nr_dirty_background_threshold, nr_memmap_*,
//   nr_hugetlb, nr_balloon_pages, nr_unaccepted); other usage the cgroup
//   cannot split (nr_mlock, nr_isolated_*, nr_zspages, nr_free_cma, ...) is
//   0, as meminfo's Mlocked. Where meminfo shows the host's memory (no limit
//   below it, no memory cgroup) the gauges are the host's too.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "renderer/memory.h"

namespace prochook {

struct VmstatLine {
  std::string key;
  uint64_t value = 0;
};

// "key value" lines; other lines are dropped.
std::vector<VmstatLine> ParseVmstat(std::string_view text);

// An event counter (summed since boot) rather than a gauge: every line but
// nr_* and workingset_nodes, and the nr_* counters (nr_dirtied, ...).
bool IsVmstatCounter(std::string_view key);

struct VmstatInput {
  // The container's memory cgroup (memory.stat in v2 names); nullptr: none,
  // or unreadable this time.
  const MemorySnapshot* memory = nullptr;
  // The container's MemTotal as /proc/meminfo shows it, kB; nullopt when
  // meminfo shows the host's memory.
  std::optional<uint64_t> mem_total_kb;
  // Bytes the cgroup read from and wrote to block devices; nullopt: no I/O
  // accounting, or unreadable this time.
  std::optional<uint64_t> io_read_bytes, io_write_bytes;
  uint64_t page_size = 4096;
};

// The counters last emitted, so none goes backwards across refreshes or
// renderers.
class VmstatState {
 public:
  // Starts from what an earlier renderer emitted (its /proc/vmstat).
  void Seed(std::string_view previous);

 private:
  friend std::string RenderVmstat(std::string_view host, const VmstatInput& in, VmstatState& state);
  struct Track {
    uint64_t raw = 0;       // the figure last read
    uint64_t offset = 0;    // the drops seen so far
    uint64_t emitted = 0;
    bool read = false;      // raw is a figure read (not only seeded)
  };
  uint64_t Update(const std::string& key, uint64_t raw);
  uint64_t Last(const std::string& key) const;
  std::map<std::string, Track, std::less<>> tracks_;
};

// Pure but for state, which it updates. One line per host line, in order.
std::string RenderVmstat(std::string_view host, const VmstatInput& in, VmstatState& state);

}  // namespace prochook
