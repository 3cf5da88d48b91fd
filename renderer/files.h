// The files prochook serves: where each is mounted and how it is made.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "hook/record.h"

namespace prochook {

struct FileSpec {
  std::string name;    // file name in the state directory, e.g. "meminfo"
  std::string target;  // mount target relative to the container rootfs
};

const std::vector<FileSpec>& FileTable();

// Where the renderer reads host state: "/proc" normally, a fixture tree in
// tests.
struct HostPaths {
  std::string proc = "/proc";
};

// Reads the host and cgroup inputs of one file and renders it. A missing
// cgroup controller falls back to host values; an unreadable host file is
// an error (the last good content stays in place).
Result<std::string> RenderFile(const std::string& name, const ContainerRecord& record,
                               const HostPaths& host);

}  // namespace prochook
