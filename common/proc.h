// Facts about a process from /proc/<pid>/stat.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string_view>

#include "common/result.h"

namespace prochook {

// Start time of a process (clock ticks since the host's boot), from
// /proc/<pid>/stat. The kernel shows it shifted by the boottime offset of
// the reader's time namespace (common/timens.h): that offset is undone, so
// every prochook process gets the same figure wherever it runs.
Result<uint64_t> ReadProcessStartTime(pid_t pid);
// The same from the text of /proc/<pid>/stat as this process read it.
Result<uint64_t> HostStartTime(std::string_view stat);
// Pure. Field 22 of the text of /proc/<pid>/stat, as it stands.
Result<uint64_t> ParseStartTime(std::string_view stat);

}  // namespace prochook
