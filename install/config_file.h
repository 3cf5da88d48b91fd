// The engines' configuration files belong to the operator: `prochook
// install` reads one only when it is a plain file it can read, and never
// leaves it half-written. Anything else (a directory, a symbolic link, an
// unreadable file) is an error naming what is there, and the file is left
// as it is.
#pragma once

#include <string>
#include <string_view>

#include "common/result.h"

namespace prochook {

struct ConfigFile {
  bool exists = false;
  std::string text;  // when it exists
};

// A missing file is {exists = false}. A symbolic link (even to a regular
// file: replacing it would cut the link, writing through it would edit a
// file elsewhere), anything but a regular file, a read error or more than
// 16 MiB is an error.
Result<ConfigFile> ReadConfigFile(const std::string& path);

// Replaces (or creates) path with text, atomically: a temporary file in the
// same directory with the original's mode and owner (0644, the caller's
// owner, for a new file), fsync, rename over path, fsync the directory. A
// reader sees the old file or the new one, never a mix, and a crash leaves
// one of them. On failure nothing is left behind. If backup is not empty,
// path exists and backup does not, the original is first copied there the
// same way (so the backup is the file as it was before prochook first
// touched it). path must not be a symbolic link or other non-regular file.
Result<> ReplaceConfigFile(const std::string& path, std::string_view text, const std::string& backup = "");

}  // namespace prochook
