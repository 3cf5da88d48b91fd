#include "renderer/memory.h"

#include <algorithm>

#include "common/io.h"
#include "common/text.h"

namespace prochook {
namespace {

std::optional<uint64_t> Min(std::optional<uint64_t> a, std::optional<uint64_t> b) {
  if (!a) return b;
  if (!b) return a;
  return std::min(*a, *b);
}

// The smallest limit in `file` along the ancestors; files that are missing
// (the root cgroup has no memory.max) or unreadable do not limit.
std::optional<uint64_t> EffectiveLimit(const CgroupDir& cg, const char* file, FileReader& reader) {
  std::optional<uint64_t> limit;
  for (const std::string& dir : Ancestors(cg)) {
    auto text = reader.Read(dir + "/" + file);
    if (!text) continue;
    auto v = ParseLimit(*text);
    if (v) limit = Min(limit, *v);
  }
  return limit;
}

Result<uint64_t> ReadCounter(const std::string& path, FileReader& reader) {
  TRY_ASSIGN(std::string text, reader.Read(path), "memory counter");
  auto v = ParseU64(Trim(text));
  if (!v) return Error::Msg(path + ": not a number");
  return *v;
}

}  // namespace

Result<std::optional<uint64_t>> ParseLimit(std::string_view text) {
  text = Trim(text);
  if (text == "max") return std::optional<uint64_t>();
  auto v = ParseU64(text);
  if (!v) return Error::Msg("limit \"" + std::string(text) + "\" is neither a number nor max");
  return std::optional<uint64_t>(*v);
}

std::map<std::string, uint64_t> ParseFlatKeyed(std::string_view text) {
  std::map<std::string, uint64_t> out;
  for (std::string_view line : SplitLines(text)) {
    auto f = SplitFields(line);
    if (f.size() != 2) continue;
    if (auto v = ParseU64(f[1])) out[std::string(f[0])] = *v;
  }
  return out;
}

std::map<std::string, uint64_t> NormalizeV1MemoryStat(const std::map<std::string, uint64_t>& v1) {
  // total_* are hierarchical (the cgroup and its descendants), like v2.
  static const std::pair<const char*, const char*> kRename[] = {
      {"total_cache", "file"},
      {"total_rss", "anon"},
      {"total_rss_huge", "anon_thp"},
      {"total_shmem", "shmem"},
      {"total_mapped_file", "file_mapped"},
      {"total_dirty", "file_dirty"},
      {"total_writeback", "file_writeback"},
      {"total_swap", "swap"},
      {"total_swapcached", "swapcached"},
      {"total_active_anon", "active_anon"},
      {"total_inactive_anon", "inactive_anon"},
      {"total_active_file", "active_file"},
      {"total_inactive_file", "inactive_file"},
      {"total_unevictable", "unevictable"},
      // Events (/proc/vmstat's names). Not total_pgpgin/total_pgpgout:
      // v1 counts pages charged to the cgroup there, not block I/O.
      {"total_pgfault", "pgfault"},
      {"total_pgmajfault", "pgmajfault"},
      {"total_workingset_refault_anon", "workingset_refault_anon"},
      {"total_workingset_refault_file", "workingset_refault_file"},
  };
  std::map<std::string, uint64_t> out;
  for (const auto& [from, to] : kRename) {
    if (auto it = v1.find(from); it != v1.end()) out[to] = it->second;
  }
  return out;
}

Result<MemorySnapshot> ReadMemoryCgroup(const CgroupDir& cg, FileReader& reader) {
  MemorySnapshot s;
  const bool v1 = cg.version == 1;
  TRY_ASSIGN(s.usage,
             ReadCounter(cg.dir + (v1 ? "/memory.usage_in_bytes" : "/memory.current"), reader),
             "memory cgroup " + cg.dir);
  s.limit = EffectiveLimit(cg, v1 ? "memory.limit_in_bytes" : "memory.max", reader);
  auto stat = reader.Read(cg.dir + "/memory.stat");
  if (stat) s.stat = v1 ? NormalizeV1MemoryStat(ParseFlatKeyed(*stat)) : ParseFlatKeyed(*stat);

  if (v1) {
    // memsw counts memory+swap; swap alone is the difference. Without swap
    // accounting (swapaccount=0) the files are absent.
    auto memsw_usage = ReadCounter(cg.dir + "/memory.memsw.usage_in_bytes", reader);
    if (memsw_usage) {
      s.swap_usage = SatSub(*memsw_usage, s.usage);
      auto memsw_limit = EffectiveLimit(cg, "memory.memsw.limit_in_bytes", reader);
      if (memsw_limit && s.limit) s.swap_limit = SatSub(*memsw_limit, *s.limit);
    }
  } else {
    auto swap_usage = ReadCounter(cg.dir + "/memory.swap.current", reader);
    if (swap_usage) {
      s.swap_usage = *swap_usage;
      s.swap_limit = EffectiveLimit(cg, "memory.swap.max", reader);
    }
  }
  return s;
}

}  // namespace prochook
