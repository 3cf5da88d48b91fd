// Whole-file and whole-buffer I/O with EINTR and short reads/writes handled
// once, here.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <string>
#include <string_view>

#include "common/fd.h"
#include "common/result.h"

namespace prochook {

// Opens path with O_CLOEXEC added to flags.
Result<UniqueFd> OpenFile(const std::string& path, int flags, mode_t mode = 0);

// Reads an fd from its current offset to EOF; fails past max_bytes.
Result<std::string> ReadAll(int fd, size_t max_bytes);
// Reads a whole file (procfs and sysfs files included); fails past max_bytes.
Result<std::string> ReadFile(const std::string& path, size_t max_bytes = 1 << 20);

// Writes all of data at offset (pwrite, retried until done).
Result<> PwriteAll(int fd, std::string_view data, off_t offset);
// Writes all of data to a stream fd (pipe, socket, stderr).
Result<> WriteAll(int fd, std::string_view data);

// Whether a replaced file must survive a power loss (engine configuration)
// or lives in a store that does not outlive a reboot (/run: fsync there
// only costs the container start time, ~10-20 ms on the XFS store).
enum class Durability { kSynced, kVolatile };

// Creates or replaces path with data atomically (temp file + rename).
Result<> WriteFileAtomic(const std::string& path, std::string_view data, mode_t mode,
                         Durability durability = Durability::kSynced);

}  // namespace prochook
