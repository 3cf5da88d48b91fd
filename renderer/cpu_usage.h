// The CPU time a container's cgroup has used, in nanoseconds.
// v1 (cpuacct controller): cpuacct.usage_all, else cpuacct.usage_percpu_user
// + cpuacct.usage_percpu_sys, else cpuacct.usage_percpu (all as user).
// v2 (cpu controller): cpu.stat user_usec/system_usec, no per-CPU split.
// "user" includes nice time and "system" includes irq/softirq time in both
// versions (kernel/sched/cpuacct.c, kernel/cgroup/rstat.c).
#pragma once

#include <cstdint>
#include <map>
#include <string_view>
#include <vector>

#include "common/cgroup_dir.h"
#include "common/reader.h"
#include "common/result.h"

namespace prochook {

struct CpuTime {
  uint64_t user_ns = 0;
  uint64_t system_ns = 0;
};

struct CpuUsage {
  bool per_cpu = false;                // by_host_cpu is filled (v1 only)
  std::map<int, CpuTime> by_host_cpu;  // host CPU number -> its time
  uint64_t user_ns = 0;                // totals (the sums of by_host_cpu on v1)
  uint64_t system_ns = 0;
};

// cpuacct.usage_all: "cpu user system" then "<cpu> <user ns> <system ns>".
Result<CpuUsage> ParseCpuacctUsageAll(std::string_view text);
// cpuacct.usage_percpu{,_user,_sys}: one ns value per CPU, CPU 0 first,
// space separated (the kernel leaves a trailing space).
Result<std::vector<uint64_t>> ParseCpuacctPerCpu(std::string_view text);
// Pure: per-CPU user and system lists (system may be empty: all user) into
// a usage with totals; the lists must be as long as each other otherwise.
Result<CpuUsage> CpuUsageFromLists(const std::vector<uint64_t>& user,
                                   const std::vector<uint64_t>& system);
// v2 cpu.stat: user_usec and system_usec, both required.
Result<CpuUsage> ParseCpuStat(std::string_view text);

// I/O: cg is the cpuacct controller's directory on v1, the cgroup's on v2.
Result<CpuUsage> ReadCpuUsage(const CgroupDir& cg, FileReader& reader = OpenEachTimeReader());

}  // namespace prochook
