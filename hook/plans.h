// Which mounts serve a container: from the files the first render produced
// in its state directory to the targets inside its rootfs.
#pragma once

#include <string>
#include <vector>

#include "common/result.h"
#include "hook/inject.h"
#include "renderer/cpu_view.h"

namespace prochook {

// The /sys/devices/system/cpu replacement lives in this state subdirectory.
inline constexpr char kSysCpuDir[] = "sys-cpu";

// Plans one mount per rendered file: "meminfo" -> proc/meminfo,
// "pressure-cpu" -> proc/pressure/cpu, "sys-block/vda" -> vda's stat file
// (block_plans.h), and the kSysCpuDir directory over
// sys/devices/system/cpu. For the directory it also creates, next to the
// rendered online/possible/present, an empty cpu<i> directory per visible
// CPU (bound from the host's cpu<visible[i]>) and a placeholder for every
// other entry of `host_cpu_dir` (bound from the original), so tools find
// exactly N CPUs numbered 0..N-1 and everything else as before.
Result<std::vector<MountPlan>> PlanMounts(const std::string& state_dir,
                                          const std::vector<std::string>& rendered,
                                          const CpuView& view,
                                          const std::string& host_cpu_dir = "/sys/devices/system/cpu");

}  // namespace prochook
