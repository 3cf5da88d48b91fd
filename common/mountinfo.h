// /proc/<pid>/mountinfo (proc(5), "mountinfo").
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace prochook {

struct MountInfo {
  int mount_id = 0;
  int parent_id = 0;
  std::string root;         // the path inside the filesystem that is mounted
  std::string mount_point;  // where, in the reader's mount namespace
  std::vector<std::string> optional_fields;  // "shared:N", "master:N", ...
  std::string fs_type;
  std::string source;
  std::string super_options;
};

// Malformed lines are skipped. Octal escapes (\040 for space) are decoded.
std::vector<MountInfo> ParseMountinfo(std::string_view text);

// True when a mount event below this mount would propagate to peers.
bool IsShared(const MountInfo& m);

}  // namespace prochook
