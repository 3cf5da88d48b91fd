#include <doctest/doctest.h>

#include "renderer/stat.h"
#include "renderer/uptime.h"

using namespace prochook;

TEST_CASE("RenderUptime truncates hundredths like the kernel") {
  struct Case {
    double uptime, idle;
    const char* text;
  };
  const Case cases[] = {
      {19903.72, 38806.66, "19903.72 38806.66\n"},  // a real /proc/uptime
      {12.345, 0.29, "12.34 0.29\n"},               // 0.29 * 100 is 28.999... in binary
      {5.999, 1.005, "5.99 1.00\n"},
      {0, 0, "0.00 0.00\n"},
      {-3, 7, "0.00 7.00\n"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.text);
    CHECK(RenderUptime(c.uptime, c.idle) == c.text);
  }
}

TEST_CASE("ComputeUptime: host mode keeps the host's clock") {
  UptimeFigures f = ComputeUptime(UptimeMode::kHost, 19903.72, 1795361617, 1500050);
  CHECK(f.uptime_s == 19903.72);
  CHECK(f.elapsed_ticks == 1990372u);
  CHECK(f.btime == 1795361617u);
}

TEST_CASE("ComputeUptime: a clock of its own shifts the host's figures as the kernel does in it") {
  // A time namespace made 19900 s after host boot (offset -19900).
  UptimeFigures f = ComputeUptime(UptimeMode::kHost, 19903.72, 1795361617, 1500050, -19900);
  CHECK(RenderUptime(f.uptime_s, 0) == "3.72 0.00\n");
  CHECK(f.elapsed_ticks == 372u);
  CHECK(f.btime == 1795361617u + 19900u);  // btime + uptime is still now
}

TEST_CASE("ComputeUptime: container mode counts from the init's start") {
  // Init started 15000.50 s after host boot.
  UptimeFigures f = ComputeUptime(UptimeMode::kContainer, 19903.72, 1795361617, 1500050);
  CHECK(RenderUptime(f.uptime_s, 0) == "4903.22 0.00\n");
  CHECK(f.elapsed_ticks == 490322u);
  CHECK(f.btime == 1795361617u + 15000u);

  // A start time past the uptime (clocks read at different moments) is 0.
  UptimeFigures early = ComputeUptime(UptimeMode::kContainer, 10.0, 1795361617, 1005);
  CHECK(early.uptime_s == 0);
  CHECK(early.elapsed_ticks == 0u);
}

TEST_CASE("/proc/uptime's idle is the idle column of /proc/stat") {
  UptimeFigures f = ComputeUptime(UptimeMode::kHost, 19903.72, 1795361617, 0);
  StatInput in;
  in.view = CpuView{{0, 1}, {0, 1}};
  CpuUsage u;
  u.user_ns = 1000 * 10'000'000ull;  // 10 s busy over both CPUs
  in.usage = u;
  in.elapsed_ticks = f.elapsed_ticks;
  in.btime = f.btime;
  StatState state;
  std::string stat = RenderStat(in, state);
  CHECK(stat.find("btime 1795361617\n") != std::string::npos);
  // 2 x 19903.72 s - 10 s
  CHECK(RenderUptime(f.uptime_s, static_cast<double>(state.idle_ticks()) / kUserHz) ==
        "19903.72 39797.44\n");
}
