// A static caller of sysinfo(2) for end-to-end tests (runs inside
// containers without the host's libraries in reach). Prints one line:
// "ret errno uptime totalram freeram sharedram bufferram totalswap freeswap
// procs totalhigh freehigh mem_unit load1 load5 load15". The struct is
// filled with 0xAA first, so a call that writes nothing shows.
#include <sys/sysinfo.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

int main() {
  struct sysinfo s;
  std::memset(&s, 0xAA, sizeof s);
  const int ret = sysinfo(&s);
  const int err = ret == 0 ? 0 : errno;
  std::printf("%d %d %ld %lu %lu %lu %lu %lu %lu %u %lu %lu %u %lu %lu %lu\n", ret, err, s.uptime, s.totalram,
              s.freeram, s.sharedram, s.bufferram, s.totalswap, s.freeswap, static_cast<unsigned>(s.procs),
              s.totalhigh, s.freehigh, s.mem_unit, s.loads[0], s.loads[1], s.loads[2]);
  return ret == 0 ? 0 : 1;
}
