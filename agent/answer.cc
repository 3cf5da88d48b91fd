#include "agent/answer.h"

#include <sys/sysinfo.h>

#include <algorithm>
#include <cstring>
#include <map>

#include "common/text.h"
#include "renderer/meminfo.h"

namespace prochook {
namespace {

// "0.52" -> 0.52 in fixed point: the renderer prints hundredths.
std::optional<uint64_t> ParseLoad(std::string_view text) {
  const size_t dot = text.find('.');
  if (dot == std::string_view::npos) return std::nullopt;
  auto whole = ParseU64(text.substr(0, dot));
  auto hundredths = ParseU64(text.substr(dot + 1));
  if (!whole || !hundredths || text.size() - dot - 1 != 2 || *whole > (1ull << 32)) return std::nullopt;
  return ((*whole * 100 + *hundredths) << kSiLoadShift) / 100;
}

// The i386 struct sysinfo (include/uapi/linux/sysinfo.h with 32-bit
// longs), as compat_sysinfo in kernel/sys.c.
struct CompatSysinfo {
  int32_t uptime;
  uint32_t loads[3];
  uint32_t totalram, freeram, sharedram, bufferram, totalswap, freeswap;
  uint16_t procs, pad;
  uint32_t totalhigh, freehigh;
  uint32_t mem_unit;
  char f[8];
};
static_assert(sizeof(CompatSysinfo) == 64);

template <typename T>
std::string Bytes(const T& value) {
  return std::string(reinterpret_cast<const char*>(&value), sizeof value);
}

uint16_t Procs(uint64_t n) { return static_cast<uint16_t>(std::min<uint64_t>(n, 0xffff)); }

}  // namespace

Result<SysinfoFigures> ParseSysinfoFigures(std::string_view meminfo, std::string_view loadavg) {
  std::map<std::string, uint64_t> kb;
  for (const MeminfoLine& line : ParseMeminfo(meminfo)) {
    if (line.kb) kb[line.key] = line.value;
  }
  SysinfoFigures f;
  const std::pair<const char*, uint64_t*> fields[] = {
      {"MemTotal", &f.totalram},   {"MemFree", &f.freeram},     {"Shmem", &f.sharedram},
      {"Buffers", &f.bufferram},   {"SwapTotal", &f.totalswap}, {"SwapFree", &f.freeswap}};
  for (const auto& [key, out] : fields) {
    auto it = kb.find(key);
    if (it == kb.end()) return Error::Msg(std::string("meminfo has no ") + key);
    if (it->second > (UINT64_MAX >> 10)) return Error::Msg(std::string("meminfo: ") + key + " overflows");
    *out = it->second << 10;
  }
  // "0.52 0.58 0.59 2/345 12345"
  auto fields5 = SplitFields(Trim(loadavg));
  if (fields5.size() != 5) return Error::Msg("loadavg: expected 5 fields");
  for (size_t i = 0; i < 3; ++i) {
    auto load = ParseLoad(fields5[i]);
    if (!load) return Error::Msg("loadavg: bad load " + std::string(fields5[i]));
    f.loads[i] = *load;
  }
  auto tasks = Split(fields5[3], '/');
  auto total = tasks.size() == 2 ? ParseU64(tasks[1]) : std::nullopt;
  if (!total) return Error::Msg("loadavg: bad task count " + std::string(fields5[3]));
  f.procs = *total;
  return f;
}

int64_t SysinfoUptime(int64_t boottime_sec, int64_t boottime_nsec) {
  return boottime_sec + (boottime_nsec != 0 ? 1 : 0);
}

std::string EncodeSysinfo(const SysinfoFigures& f, int64_t uptime, bool compat32) {
  if (!compat32) {
    struct sysinfo s;
    std::memset(&s, 0, sizeof s);
    s.uptime = uptime;
    for (int i = 0; i < 3; ++i) s.loads[i] = f.loads[i];
    s.totalram = f.totalram;
    s.freeram = f.freeram;
    s.sharedram = f.sharedram;
    s.bufferram = f.bufferram;
    s.totalswap = f.totalswap;
    s.freeswap = f.freeswap;
    s.procs = Procs(f.procs);
    s.mem_unit = 1;
    return Bytes(s);
  }
  CompatSysinfo s;
  std::memset(&s, 0, sizeof s);
  s.uptime = static_cast<int32_t>(std::min<int64_t>(uptime, INT32_MAX));
  for (int i = 0; i < 3; ++i) s.loads[i] = static_cast<uint32_t>(std::min<uint64_t>(f.loads[i], UINT32_MAX));
  const uint64_t sizes[] = {f.totalram, f.freeram, f.sharedram, f.bufferram, f.totalswap, f.freeswap};
  const bool fits = std::all_of(std::begin(sizes), std::end(sizes), [](uint64_t v) { return v <= UINT32_MAX; });
  const int shift = fits ? 0 : 12;
  s.mem_unit = 1u << shift;
  uint32_t* out[] = {&s.totalram, &s.freeram, &s.sharedram, &s.bufferram, &s.totalswap, &s.freeswap};
  for (size_t i = 0; i < 6; ++i) *out[i] = static_cast<uint32_t>(std::min<uint64_t>(sizes[i] >> shift, UINT32_MAX));
  s.procs = Procs(f.procs);
  return Bytes(s);
}

}  // namespace prochook
