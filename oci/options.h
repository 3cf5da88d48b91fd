// prochook's per-container options, read from config.json annotations.
#pragma once

#include <chrono>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace prochook {

inline constexpr char kAnnotationDisable[] = "io.prochook.disable";
inline constexpr char kAnnotationInterval[] = "io.prochook.interval";
inline constexpr char kAnnotationPolicy[] = "io.prochook.policy";
inline constexpr char kAnnotationFiles[] = "io.prochook.files";
inline constexpr char kAnnotationCpuView[] = "io.prochook.cpu-view";
inline constexpr char kAnnotationSwap[] = "io.prochook.swap";
inline constexpr char kAnnotationUptime[] = "io.prochook.uptime";
inline constexpr char kAnnotationIdle[] = "io.prochook.idle";
inline constexpr char kAnnotationFirstRead[] = "io.prochook.first-read";
inline constexpr char kAnnotationSysinfo[] = "io.prochook.sysinfo";
inline constexpr char kAnnotationTimens[] = "io.prochook.timens";

// The files a container can be served, by annotation name.
inline const std::vector<std::string>& AllFileNames() {
  static const std::vector<std::string> names = {"meminfo",   "cpuinfo", "stat",     "uptime",
                                                 "loadavg",   "diskstats", "swaps", "pressure",
                                                 "sys-cpu",   "vmstat",    "sys-block"};
  return names;
}

enum class FailPolicy { kOpen, kClosed };

struct Options {
  bool disabled = false;
  std::chrono::milliseconds interval{1000};
  // io.prochook.idle=30s|off: files nobody read for this long are refreshed
  // only this often (and at once when read again); 0 = off.
  std::chrono::milliseconds idle{10000};
  // io.prochook.first-read=fresh|periodic: in idle mode, the first read
  // after a quiet spell waits for a refresh (fresh), or gets content up to
  // one idle period old (periodic: no read gate).
  bool fresh_reads = true;
  FailPolicy policy = FailPolicy::kOpen;
  std::vector<std::string> files = AllFileNames();  // io.prochook.files=meminfo,stat,...
  bool cpu_view_quota = true;   // io.prochook.cpu-view=cpuset|quota (cpuset+quota)
  bool show_swap = true;        // io.prochook.swap=show|zero
  bool container_uptime = false;  // io.prochook.uptime=host|container (see README: the ps trap)
  // io.prochook.sysinfo=on|off: sysinfo(2) answered by the agent (wrapper mode).
  bool sysinfo = true;
  // io.prochook.timens=on|off: a time namespace whose uptime starts with
  // the container (wrapper mode, oci/timens_plan.h).
  bool timens = true;
  // Annotations that were present but not understood; each becomes a
  // warning and the default is kept, so a typo never stops a container.
  std::vector<std::string> warnings;
};

// "250ms", "1s", "1.5s", "2m". Range 10ms..1h.
Result<std::chrono::milliseconds> ParseDuration(std::string_view text);

Options ParseOptions(const std::map<std::string, std::string>& annotations);

}  // namespace prochook
