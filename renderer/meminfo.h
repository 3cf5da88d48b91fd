// /proc/meminfo: parse the host's, render the container's (proc(5),
// fs/proc/meminfo.c).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "renderer/memory.h"

namespace prochook {

struct MeminfoLine {
  std::string key;     // without the colon
  uint64_t value = 0;  // kB when kb, else a plain count (HugePages_*)
  bool kb = true;
};

// Lines that do not look like "Key: value [kB]" are dropped.
std::vector<MeminfoLine> ParseMeminfo(std::string_view text);

// The kernel's layout: "Key:" padded to 16 columns, value right-aligned in
// 8 more, then " kB" for sizes.
std::string FormatMeminfo(const std::vector<MeminfoLine>& lines);

// The container's MemTotal in kB, or nullopt when its /proc/meminfo shows
// the host's memory (no memory cgroup, or no limit below the host's).
std::optional<uint64_t> ContainerMemTotalKb(const std::vector<MeminfoLine>& host,
                                            const std::optional<MemorySnapshot>& memory);

// The container's /proc/meminfo. Host lines keep their order; the fields the
// cgroup accounts for are replaced, CommitLimit and Committed_AS are
// scaled to the container (meminfo.cc says how), Balloon is 0, host-wide
// properties (Vmalloc*, HugePages_*, Hugetlb, DirectMap*) pass through. With no memory cgroup, or
// a limit at or above the host's MemTotal, the host's values are the
// container's: the container may use all of the host's memory.
std::string RenderMeminfo(const std::vector<MeminfoLine>& host,
                          const std::optional<MemorySnapshot>& memory);

}  // namespace prochook
