#include "renderer/loadavg.h"

#include <algorithm>
#include <cstdio>

namespace prochook {
namespace {

constexpr unsigned kFShift = 11;

// fixed_power_int() (include/linux/sched/loadavg.h's helper): x^n with
// frac_bits fractional bits, rounding each product to nearest.
uint64_t FixedPowerInt(uint64_t x, unsigned n) {
  uint64_t result = kFixed1;
  while (n) {
    if (n & 1) result = (result * x + (kFixed1 >> 1)) >> kFShift;
    n >>= 1;
    if (!n) break;
    x = (x * x + (kFixed1 >> 1)) >> kFShift;
  }
  return result;
}

uint64_t LoadInt(uint64_t x) { return x >> kFShift; }
uint64_t LoadFrac(uint64_t x) { return LoadInt((x & (kFixed1 - 1)) * 100); }

}  // namespace

uint64_t CalcLoad(uint64_t load, uint64_t exp, uint64_t active) {
  uint64_t newload = load * exp + active * (kFixed1 - exp);
  // Round up while rising so a constant load reaches it exactly.
  if (active >= load) newload += kFixed1 - 1;
  return newload / kFixed1;
}

uint64_t CalcLoadN(uint64_t load, uint64_t exp, uint64_t active, unsigned n) {
  return CalcLoad(load, FixedPowerInt(exp, n), active);
}

void LoadAverage::Sample(uint32_t active, int64_t now_ms) {
  if (!next_update_ms_) {
    next_update_ms_ = now_ms + kLoadFreqMs;
    return;
  }
  if (now_ms < *next_update_ms_) return;
  const int64_t periods = 1 + (now_ms - *next_update_ms_) / kLoadFreqMs;
  const uint64_t a = static_cast<uint64_t>(active) * kFixed1;
  static constexpr uint64_t kExp[3] = {kExp1, kExp5, kExp15};
  // Past ~1000 periods every exp^n is 0 in fixed point: the average is a.
  const unsigned rest = static_cast<unsigned>(std::min<int64_t>(periods - 1, 1 << 20));
  for (int i = 0; i < 3; ++i) {
    avenrun_[i] = CalcLoad(avenrun_[i], kExp[i], a);
    if (rest) avenrun_[i] = CalcLoadN(avenrun_[i], kExp[i], a, rest);
  }
  *next_update_ms_ += periods * kLoadFreqMs;
}

std::string RenderLoadavg(const LoadAverage& load, const TaskSample& tasks) {
  unsigned long long v[3];
  for (int i = 0; i < 3; ++i) v[i] = load.avenrun()[i] + kFixed1 / 200;
  char buf[128];
  std::snprintf(buf, sizeof buf, "%llu.%02llu %llu.%02llu %llu.%02llu %u/%d %d\n",
                static_cast<unsigned long long>(LoadInt(v[0])),
                static_cast<unsigned long long>(LoadFrac(v[0])),
                static_cast<unsigned long long>(LoadInt(v[1])),
                static_cast<unsigned long long>(LoadFrac(v[1])),
                static_cast<unsigned long long>(LoadInt(v[2])),
                static_cast<unsigned long long>(LoadFrac(v[2])), tasks.running,
                static_cast<int>(tasks.total), tasks.last_pid);
  return buf;
}

}  // namespace prochook
