// /proc/uptime for a container (format: fs/proc/uptime.c), and the clock
// origin shared with /proc/stat's idle times and btime line.
#pragma once

#include <cstdint>
#include <string>

namespace prochook {

// Where a container's clock starts.
//  kHost (the default): the host's boot. Uptime and btime are the host's,
//    which keeps `ps` right: process start times (/proc/<pid>/stat
//    starttime) count from host boot, and ps derives START, ELAPSED and
//    %CPU from them together with uptime and btime.
//  kContainer: the container's init start. Uptime is the time since then,
//    btime is host btime + the init's start, so `uptime`, `uptime -s` and
//    psutil.boot_time() report the container's start; ps START, ELAPSED and
//    %CPU are then wrong (start times stay relative to host boot).
enum class UptimeMode { kHost, kContainer };

struct UptimeFigures {
  double uptime_s = 0;         // the first figure of /proc/uptime
  uint64_t elapsed_ticks = 0;  // StatInput::elapsed_ticks: the idle basis
  uint64_t btime = 0;          // StatInput::btime, seconds since the epoch
};

// Pure. host_uptime_s: the host's uptime (CLOCK_BOOTTIME); host_btime: the
// host's /proc/stat btime; init_start_ticks: the container init's
// starttime (common/proc.h ParseStartTime), used in kContainer mode only;
// clock_offset_s: the boottime offset of the container's time namespace
// (ContainerRecord::clock_offset_s), which shifts the host's figures to
// what the kernel shows the container: uptime + offset, btime - offset.
UptimeFigures ComputeUptime(UptimeMode mode, double host_uptime_s, uint64_t host_btime,
                            uint64_t init_start_ticks, int64_t clock_offset_s = 0);

// "%lu.%02lu %lu.%02lu\n" as the kernel prints it: hundredths truncated,
// not rounded (12.345 -> "12.34"). Negative inputs print as 0. idle_s is
// StatState::idle_ticks() / kUserHz after RenderStat.
std::string RenderUptime(double uptime_s, double idle_s);

}  // namespace prochook
