// A static caller of sysinfo(2) for end-to-end tests and benchmarks (runs
// inside containers without the host's libraries in reach).
//
// sysinfo_caller: one call; prints "ret errno uptime totalram freeram
// sharedram bufferram totalswap freeswap procs totalhigh freehigh mem_unit
// load1 load5 load15". The struct is filled with 0xAA first, so a call that
// writes nothing shows.
// sysinfo_caller --rate N --seconds S: N calls a second (0: back to back)
// for S seconds; prints "calls failed totalram_changes elapsed_ms
// mean_us p99_us max_us totalram" (totalram_changes: answers whose totalram
// differs from the first one's).
#include <sys/sysinfo.h>
#include <time.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

namespace {

int64_t NowNs() {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return static_cast<int64_t>(t.tv_sec) * 1000000000 + t.tv_nsec;
}

int Once() {
  struct sysinfo s;
  std::memset(&s, 0xAA, sizeof s);
  const int ret = sysinfo(&s);
  const int err = ret == 0 ? 0 : errno;
  std::printf("%d %d %ld %lu %lu %lu %lu %lu %lu %u %lu %lu %u %lu %lu %lu\n", ret, err, s.uptime, s.totalram,
              s.freeram, s.sharedram, s.bufferram, s.totalswap, s.freeswap, static_cast<unsigned>(s.procs),
              s.totalhigh, s.freehigh, s.mem_unit, s.loads[0], s.loads[1], s.loads[2]);
  return ret == 0 ? 0 : 1;
}

int Paced(long rate, long seconds) {
  const int64_t start = NowNs();
  const int64_t end = start + seconds * 1000000000;
  std::vector<int64_t> latencies;
  long failed = 0, changes = 0;
  unsigned long first_total = 0;
  for (long i = 0;; ++i) {
    if (rate > 0) {
      const int64_t due = start + i * (1000000000 / rate);
      if (due >= end) break;
      struct timespec at = {static_cast<time_t>(due / 1000000000), static_cast<long>(due % 1000000000)};
      clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &at, nullptr);
    } else if (NowNs() >= end) {
      break;
    }
    struct sysinfo s;
    std::memset(&s, 0xAA, sizeof s);
    const int64_t before = NowNs();
    const int ret = sysinfo(&s);
    latencies.push_back(NowNs() - before);
    if (ret != 0) {
      ++failed;
      continue;
    }
    if (first_total == 0) first_total = s.totalram * s.mem_unit;
    if (s.totalram * s.mem_unit != first_total) ++changes;
  }
  const int64_t elapsed = NowNs() - start;
  std::vector<int64_t> sorted = latencies;
  std::sort(sorted.begin(), sorted.end());
  int64_t sum = 0;
  for (int64_t l : sorted) sum += l;
  const size_t n = sorted.size();
  std::printf("%zu %ld %ld %lld %.2f %.2f %.2f %lu\n", n, failed, changes, static_cast<long long>(elapsed / 1000000),
              n ? sum / 1000.0 / n : 0.0, n ? sorted[std::min(n - 1, n * 99 / 100)] / 1000.0 : 0.0,
              n ? sorted.back() / 1000.0 : 0.0, first_total);
  return failed == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 5 && std::strcmp(argv[1], "--rate") == 0 && std::strcmp(argv[3], "--seconds") == 0) {
    return Paced(std::atol(argv[2]), std::atol(argv[4]));
  }
  if (argc != 1) {
    std::fprintf(stderr, "usage: sysinfo_caller [--rate N --seconds S]\n");
    return 2;
  }
  return Once();
}
