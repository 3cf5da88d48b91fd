// The memory controller of one cgroup, read into a version-neutral snapshot.
// v1: memory.limit_in_bytes, memory.usage_in_bytes, memory.memsw.*,
// memory.stat (total_* keys). v2: memory.max, memory.current,
// memory.swap.max, memory.swap.current, memory.stat
// (Documentation/admin-guide/cgroup-v{1,2}).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "common/cgroup_dir.h"
#include "common/reader.h"
#include "common/result.h"

namespace prochook {

struct MemorySnapshot {
  std::optional<uint64_t> limit;       // bytes; smallest along ancestors; nullopt = none
  uint64_t usage = 0;                  // bytes charged, page cache included
  std::optional<uint64_t> swap_limit;  // bytes of swap alone; nullopt = none
  std::optional<uint64_t> swap_usage;  // nullopt = no swap accounting
  // memory.stat in cgroup v2 key names (v1's total_* keys are renamed).
  std::map<std::string, uint64_t> stat;
};

// "max" (v2) is nullopt; a number is itself; anything else is an error.
Result<std::optional<uint64_t>> ParseLimit(std::string_view text);
// "key value" lines (memory.stat, cpu.stat); malformed lines are skipped.
std::map<std::string, uint64_t> ParseFlatKeyed(std::string_view text);
// v1 hierarchical memory.stat keys -> v2 names.
std::map<std::string, uint64_t> NormalizeV1MemoryStat(const std::map<std::string, uint64_t>& v1);

// Reads the snapshot; fails only when the cgroup's own usage cannot be read.
Result<MemorySnapshot> ReadMemoryCgroup(const CgroupDir& cg, FileReader& reader = OpenEachTimeReader());

}  // namespace prochook
