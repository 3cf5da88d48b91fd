// Facts about a process from /proc/<pid>/stat.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string_view>

#include "common/result.h"

namespace prochook {

// Start time of a process (clock ticks since boot), from /proc/<pid>/stat.
Result<uint64_t> ReadProcessStartTime(pid_t pid);
// Parses the text of /proc/<pid>/stat for field 22.
Result<uint64_t> ParseStartTime(std::string_view stat);

}  // namespace prochook
