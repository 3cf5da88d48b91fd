// /proc/diskstats for a container: the host's devices, with the cgroup's
// own counters (zero where it did no I/O) in block/genhd.c's layout.
// v1 (blkio): blkio.throttle.io_serviced{_recursive,} and
// io_service_bytes{_recursive,}; ms and merges only from CFQ/BFQ's
// io_service_time/io_merged files where present. v2: io.stat.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/cgroup_dir.h"
#include "common/reader.h"
#include "common/result.h"

namespace prochook {

struct IoDeviceStat {
  uint32_t major = 0, minor = 0;
  uint64_t read_ios = 0, write_ios = 0;
  uint64_t read_bytes = 0, write_bytes = 0;
  uint64_t discard_ios = 0, discard_bytes = 0;
  // Known only from v1's CFQ/BFQ statistics; 0 in the rendering otherwise.
  std::optional<uint64_t> read_ms, write_ms;
  std::optional<uint64_t> read_merged, write_merged;
};

// A v1 "rwstat" file (block/blk-cgroup-rwstat.c __blkg_prfill_rwstat):
// "MAJ:MIN Read|Write|Sync|Async|Discard|Total N" lines and a final
// "Total N"; returns the Read, Write and Discard lines.
enum class RwOp { kRead, kWrite, kDiscard };
struct RwStatLine {
  uint32_t major, minor;
  RwOp op;
  uint64_t value;
};
std::vector<RwStatLine> ParseRwStat(std::string_view text);

// v2 io.stat: "MAJ:MIN rbytes=.. wbytes=.. rios=.. wios=.. dbytes=.. dios=.."
// (other keys ignored). Lines with a malformed device are skipped.
std::vector<IoDeviceStat> ParseIoStat(std::string_view text);

// I/O. Devices in major:minor order; fails only when neither the v1
// counters nor io.stat can be read.
Result<std::vector<IoDeviceStat>> ReadIoStats(const CgroupDir& cg, FileReader& reader = OpenEachTimeReader());

// One device of the host's /proc/diskstats with the container's counters:
// the fields after the name, in Documentation/block/stat.rst's order (the
// same values /sys/block/<dev>/stat shows).
inline constexpr size_t kDiskFields = 17;
struct DiskCounters {
  uint32_t major = 0, minor = 0;
  std::string name;
  std::array<uint64_t, kDiskFields> fields{};
  // How many fields the host's line has after the name: 11 (before Linux
  // 4.18), 15 (discards, 4.18) or 17 (flushes, 5.5).
  size_t host_fields = kDiskFields;
};

// Pure. One entry per well-formed host_diskstats line (host order, host
// name) with the device's counters from `stats`, zeros if it has none.
std::vector<DiskCounters> ComputeDiskCounters(std::string_view host_diskstats,
                                              const std::vector<IoDeviceStat>& stats);

// Pure. block/genhd.c diskstats_show's lines.
std::string RenderDiskstats(const std::vector<DiskCounters>& disks);
std::string RenderDiskstats(std::string_view host_diskstats,
                            const std::vector<IoDeviceStat>& stats);

}  // namespace prochook
