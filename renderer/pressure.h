// /proc/pressure/{cpu,memory,io} for a container: its cgroup v2
// <resource>.pressure files, which have the same format
// (kernel/sched/psi.c psi_show).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "common/cgroup_dir.h"
#include "common/reader.h"

namespace prochook {

// Pure. "some avg10=A avg60=A avg300=A total=N\n" then a "full" line of the
// same shape, where A is "%lu.%02lu". memory and io always have "full";
// cpu has it since Linux 5.13. Nothing else may follow.
bool ValidatePressure(std::string_view text, std::string_view resource);

// The container's <resource>.pressure ("cpu", "memory" or "io") if the
// cgroup is v2 and the file is readable and valid; nullopt otherwise (v1
// has no per-cgroup PSI; v2 returns EOPNOTSUPP with cgroup.pressure 0).
std::optional<std::string> ReadPressure(const CgroupDir& cg, std::string_view resource,
                                        FileReader& reader = OpenEachTimeReader());

}  // namespace prochook
