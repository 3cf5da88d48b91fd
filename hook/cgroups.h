// Locates a container's cgroup directories from /proc/<pid>/cgroup and the
// host's mountinfo, for cgroup v1, v2 and hybrid layouts (cgroups(7)).
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/cgroup_dir.h"
#include "common/mountinfo.h"
#include "common/result.h"

namespace prochook {

// One line of /proc/<pid>/cgroup: "hierarchy-ID:controller-list:cgroup-path".
struct ProcCgroupEntry {
  int hierarchy = 0;                     // 0 is the cgroup v2 hierarchy
  std::vector<std::string> controllers;  // v1 only; "name=systemd" kept as is
  std::string path;
};

std::vector<ProcCgroupEntry> ParseProcCgroup(std::string_view text);

// The controllers prochook reads, by their v1 names; on v2 "cpuacct" is
// served by cpu.stat and "blkio" by io.stat.
inline const std::vector<std::string>& KnownControllers() {
  static const std::vector<std::string> k = {"memory", "cpu", "cpuacct", "cpuset", "blkio", "pids"};
  return k;
}

// For every known controller: its directory, or version 0 if absent.
// v2_controllers is the cgroup2 root's cgroup.controllers (split), which
// says which controllers the v2 hierarchy carries.
std::map<std::string, CgroupDir> LocateCgroups(const std::vector<ProcCgroupEntry>& entries,
                                               const std::vector<MountInfo>& mounts,
                                               const std::vector<std::string>& v2_controllers);

// Reads /proc/<pid>/cgroup, this process's mountinfo and the v2 root's
// cgroup.controllers, then locates.
Result<std::map<std::string, CgroupDir>> LoadCgroups(int pid);

}  // namespace prochook
