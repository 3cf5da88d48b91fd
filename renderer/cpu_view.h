// The CPUs a container sees: its cpuset (cpuset.cpus.effective on v2,
// cpuset.effective_cpus or cpuset.cpus on v1) intersected with the host's
// online CPUs, then limited to ceil(quota/period) CPUs (cpu.max on v2,
// cpu.cfs_quota_us/cpu.cfs_period_us on v1; the smallest ratio along the
// cgroup's ancestors). Container CPU i is host CPU visible[i]: every file
// that lists CPUs numbers them 0..N-1 in this order.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/cgroup_dir.h"
#include "common/reader.h"
#include "common/result.h"

namespace prochook {

enum class CpuViewMode { kCpusetAndQuota, kCpusetOnly };

struct CpuLimits {
  std::vector<int> cpuset;       // allowed host CPUs, sorted, unique; empty = unknown
  std::optional<double> quota;   // CPUs' worth (quota/period), smallest along ancestors
};

struct CpuView {
  std::vector<int> visible;      // host CPU numbers, sorted; container CPU i = visible[i]
  std::vector<int> allowed;      // every host CPU the container may run on (>= visible)
};

// "0-3,8,10-11\n" -> {0,1,2,3,8,10,11}. Empty text is an empty list;
// malformed text (or a CPU above 65535) is an error.
Result<std::vector<int>> ParseCpuList(std::string_view text);

// v2 cpu.max, "150000 100000" -> 1.5 CPUs; "max 100000" (no limit) or
// anything malformed -> nullopt.
std::optional<double> ParseCpuMax(std::string_view text);
// {0,1,2,3,8} -> "0-3,8" (no newline).
std::string FormatCpuList(const std::vector<int>& cpus);

// Pure: the view from the limits and the host's online CPUs. allowed =
// cpuset ∩ online (online if the cpuset is unknown or the intersection is
// empty); visible = the first ceil(quota) of allowed (all of allowed in
// kCpusetOnly mode or without a quota); never empty while online is not.
CpuView ComputeCpuView(const CpuLimits& limits, const std::vector<int>& online, CpuViewMode mode);

// I/O: reads the limits from the container's cpuset and cpu cgroups
// (either may be absent: version 0).
CpuLimits ReadCpuLimits(const CgroupDir& cpuset, const CgroupDir& cpu,
                        FileReader& reader = OpenEachTimeReader());

}  // namespace prochook
