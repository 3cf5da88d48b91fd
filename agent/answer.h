// What sysinfo(2) answers a container's process: the figures of the files
// the renderer wrote for it (the same snapshot /proc/meminfo and
// /proc/loadavg show), laid out as the caller's struct sysinfo.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.h"

namespace prochook {

struct SysinfoFigures {
  // Bytes, from MemTotal, MemFree, Shmem, Buffers, SwapTotal, SwapFree.
  uint64_t totalram = 0, freeram = 0, sharedram = 0, bufferram = 0, totalswap = 0, freeswap = 0;
  uint64_t procs = 0;               // tasks: loadavg's "running/total" total
  std::array<uint64_t, 3> loads{};  // 1, 5, 15 minutes, fixed point << kSiLoadShift
};

// include/uapi/linux/kernel.h: sysinfo's loads carry 16 fractional bits.
inline constexpr int kSiLoadShift = 16;

// Pure. From the container's rendered /proc/meminfo and /proc/loadavg.
// An error (a field missing, a malformed line) means "no answer": the
// agent lets the real call run.
Result<SysinfoFigures> ParseSysinfoFigures(std::string_view meminfo, std::string_view loadavg);

// The kernel's uptime figure: seconds, a started second counting whole
// (kernel/sys.c do_sysinfo).
int64_t SysinfoUptime(int64_t boottime_sec, int64_t boottime_nsec);

// Pure. The bytes of struct sysinfo as the caller's ABI lays it out:
// x86-64 and x32 (64-bit fields), or i386 (compat: 32-bit fields, 64
// bytes). A compat answer whose sizes do not fit 32 bits is given in pages
// of 4096 bytes, as kernel/sys.c compat_sysinfo scales them; procs
// saturates at 65535 (an unsigned short, as the kernel's).
std::string EncodeSysinfo(const SysinfoFigures& f, int64_t uptime, bool compat32);

}  // namespace prochook
