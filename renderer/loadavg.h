// /proc/loadavg for a container: the kernel's exponentially decaying load
// averages (kernel/sched/loadavg.c) recomputed over the container's tasks,
// printed as fs/proc/loadavg.c does.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>

#include "renderer/tasks.h"

namespace prochook {

// Fixed point with 11 fractional bits, as include/linux/sched/loadavg.h.
inline constexpr uint64_t kFixed1 = 1 << 11;
inline constexpr uint64_t kExp1 = 1884;   // 1/exp(5s/1min)
inline constexpr uint64_t kExp5 = 2014;   // 1/exp(5s/5min)
inline constexpr uint64_t kExp15 = 2037;  // 1/exp(5s/15min)
// The kernel's LOAD_FREQ is 5*HZ+1 ticks; one tick is noise at our sampling.
inline constexpr int64_t kLoadFreqMs = 5000;

// calc_load(): one period's decay towards active (both fixed point).
uint64_t CalcLoad(uint64_t load, uint64_t exp, uint64_t active);
// calc_load_n(): n periods at once with exp^n (fixed_power_int rounding).
uint64_t CalcLoadN(uint64_t load, uint64_t exp, uint64_t active, unsigned n);

class LoadAverage {
 public:
  // active: running + uninterruptible tasks now. The first call starts the
  // clock; each later call folds every 5 s period that ended since, all
  // with this active count: the first by calc_load, the rest by calc_load_n,
  // like calc_global_load() followed by calc_global_nohz(). A clock that
  // goes backwards folds nothing.
  void Sample(uint32_t active, int64_t now_ms);

  // avenrun[]: 1, 5 and 15 minute averages, fixed point.
  const std::array<uint64_t, 3>& avenrun() const { return avenrun_; }

 private:
  std::array<uint64_t, 3> avenrun_{};
  std::optional<int64_t> next_update_ms_;
};

// "%lu.%02lu %lu.%02lu %lu.%02lu %u/%d %d\n": the averages rounded to
// hundredths (get_avenrun's FIXED_1/200 offset), running/total threads and
// the last pid.
std::string RenderLoadavg(const LoadAverage& load, const TaskSample& tasks);

}  // namespace prochook
