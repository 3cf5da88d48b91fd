#include "renderer/uptime.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "common/text.h"
#include "renderer/stat.h"

namespace prochook {
namespace {

// Whole nanoseconds first: truncating s * 100 directly would turn 0.29 into
// 28 hundredths (0.29 * 100 == 28.999999999999996).
uint64_t ToNs(double s) { return s > 0 ? static_cast<uint64_t>(std::llround(s * 1e9)) : 0; }

uint64_t ToTicks(double s) { return ToNs(s) / (1'000'000'000 / kUserHz); }

}  // namespace

UptimeFigures ComputeUptime(UptimeMode mode, double host_uptime_s, uint64_t host_btime,
                            uint64_t init_start_ticks, int64_t clock_offset_s) {
  if (clock_offset_s != 0) {
    host_uptime_s = std::max(0.0, host_uptime_s + static_cast<double>(clock_offset_s));
    host_btime -= static_cast<uint64_t>(clock_offset_s);
  }
  const uint64_t host_ticks = ToTicks(host_uptime_s);
  if (mode == UptimeMode::kHost) return {host_uptime_s, host_ticks, host_btime};
  const double since_start = host_uptime_s - static_cast<double>(init_start_ticks) / kUserHz;
  return {since_start > 0 ? since_start : 0, SatSub(host_ticks, init_start_ticks),
          host_btime + init_start_ticks / kUserHz};
}

std::string RenderUptime(double uptime_s, double idle_s) {
  const uint64_t up = ToNs(uptime_s) / 10'000'000;  // hundredths
  const uint64_t idle = ToNs(idle_s) / 10'000'000;
  char buf[64];
  std::snprintf(buf, sizeof buf, "%llu.%02llu %llu.%02llu\n", static_cast<unsigned long long>(up / 100),
                static_cast<unsigned long long>(up % 100), static_cast<unsigned long long>(idle / 100),
                static_cast<unsigned long long>(idle % 100));
  return buf;
}

}  // namespace prochook
