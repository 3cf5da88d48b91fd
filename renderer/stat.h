// /proc/stat for a container (format: fs/proc/stat.c). The CPU lines
// describe the container's CPUs (container CPU i = host CPU visible[i]),
// built from its cgroup's CPU usage when there is cpu accounting and from
// the host's lines for the visible CPUs otherwise. The other lines are the
// host's, except btime and, when given, procs_running/procs_blocked.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "renderer/cpu_usage.h"
#include "renderer/cpu_view.h"

namespace prochook {

// USER_HZ: the unit of every time in /proc/stat and /proc/<pid>/stat. The
// kernel ABI fixes it at 100 on every architecture Linux still supports.
inline constexpr uint64_t kUserHz = 100;

// One CPU line's columns, in ticks: user nice system idle iowait irq
// softirq steal guest guest_nice.
using StatColumns = std::array<uint64_t, 10>;
inline constexpr size_t kStatUser = 0;
inline constexpr size_t kStatSystem = 2;
inline constexpr size_t kStatIdle = 3;

struct HostStat {
  std::map<int, StatColumns> cpus;  // by host CPU; missing trailing columns are 0
  std::string intr;                 // the whole "intr ..." line, without '\n'
  std::string softirq;              // the whole "softirq ..." line, without '\n'
  std::optional<uint64_t> ctxt, btime, processes;
  std::optional<uint64_t> procs_running, procs_blocked;
};

// Pure; never fails: lines it does not know are ignored.
HostStat ParseHostStat(std::string_view text);

struct StatInput {
  HostStat host;
  CpuView view;
  std::optional<CpuUsage> usage;  // nullopt: no cpu accounting, show the host's lines
  // The basis for idle: ticks since the clock origin the caller chose (see
  // uptime.h); idle = elapsed_ticks - (user + system) per container CPU.
  uint64_t elapsed_ticks = 0;
  std::optional<uint32_t> procs_running, procs_blocked;  // nullopt: the host's
  uint64_t btime = 0;  // always printed: htop aborts without a btime line
};

// What the last render emitted, so no counter ever goes backwards: tools
// (top, mpstat, htop) difference successive reads and cannot take negative
// deltas, which folding usage or a changing CPU count would otherwise cause.
class StatState {
 public:
  // The sum of the idle column over the container CPUs last emitted; the
  // idle figure of /proc/uptime is this / kUserHz.
  uint64_t idle_ticks() const;

  // Starts from what an earlier renderer emitted (its /proc/stat, parsed),
  // so a restarted renderer never goes backwards either.
  void Seed(const HostStat& previous);

 private:
  friend std::string RenderStat(const StatInput& in, StatState& state);
  // Per container CPU; nullopt when never emitted.
  std::vector<std::optional<StatColumns>> last_;
};

// Pure but for state, which it updates. Per container CPU: with per-CPU
// usage (v1), the usage of allowed[k] is folded onto container CPU k % N
// (N = visible.size()), so a quota that shows fewer CPUs than the cpuset
// still accounts for all the time; without (v2) the totals are spread
// evenly, the remainder to the lowest CPUs. user and system come from the
// usage, idle from elapsed_ticks, the other columns are 0. Every column is
// then the max of itself and the last emitted value of the same CPU.
std::string RenderStat(const StatInput& in, StatState& state);

}  // namespace prochook
