// /sys/block/<dev>/stat and its partitions' stat files for a container:
// the counters of its /proc/diskstats (one snapshot), in the layout of
// block/genhd.c part_stat_show (Documentation/block/stat.rst). iostat
// (sysstat 12) reads these, not /proc/diskstats.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "renderer/diskstats.h"

namespace prochook {

// Devices served at most: each is one mount into the container, made while
// its start waits (README, Performance: the start overhead, says why 32).
inline constexpr size_t kMaxBlockStatFiles = 32;

// Pure. The devices (whole disks and partitions, by their diskstats name)
// whose stat file a container is served: every device of host_diskstats,
// those the host has done I/O on first (they would show the host's
// traffic), each group in the host's order, at most `cap`. Names that
// cannot be a sysfs entry ("", ".", "..", with a '/') are left out.
std::vector<std::string> SelectBlockDevices(std::string_view host_diskstats,
                                            size_t cap = kMaxBlockStatFiles);

// Pure. One device's stat file: the host's field count (DiskCounters),
// each value "%8llu", one space between.
std::string RenderBlockStat(const DiskCounters& disk);

}  // namespace prochook
