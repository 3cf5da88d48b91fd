// `prochook repair`: brings the run directory back in line with the
// containers that are running. A container whose renderer died (killed,
// crashed, upgraded away) gets a new one, which rewrites the same files in
// place; the mounts are never touched. A state directory whose container is
// gone (its init exited while no renderer watched it) is removed.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace prochook {

struct RepairReport {
  // By state directory name.
  std::vector<std::string> restarted;         // given a new renderer
  std::vector<std::string> agents_restarted;  // given a new sysinfo agent (wrapper mode)
  std::vector<std::string> removed;    // state directories of gone containers
  std::vector<std::string> problems;   // "name: why" for directories left alone
};

// How many state directories one Repair looks at. The hook repairs on
// every invocation, so on a container's start (createRuntime, prestart) it
// looks at two: a start costs the same with 500 containers served as with
// none. poststop is on no container's start path and looks at more. Each
// bounded Repair continues where the last one stopped (a cursor in the run
// directory), so with D state directories every one is looked at within
// ceil(D / 2) + 1 hook invocations. `prochook repair` looks at all.
inline constexpr size_t kRepairAll = SIZE_MAX;
inline constexpr size_t kRepairOnStart = 2;
inline constexpr size_t kRepairOnStop = 16;
// Where the next bounded Repair starts, in the run directory.
inline constexpr char kRepairCursorFile[] = "repair.cursor";

// Looks at up to max_dirs state directories of run_dir (all of them, or the
// next ones after the cursor). skip_id: the directory name (StateDirName)
// of a container the caller is setting up (its directory is locked anyway). Directories locked by a hook in
// progress are skipped. Stops, leaving the rest for the next run, once
// stop_by has passed. The report names directories.
RepairReport Repair(const std::string& run_dir, const std::string& skip_id = "",
                    std::chrono::steady_clock::time_point stop_by =
                        std::chrono::steady_clock::time_point::max(),
                    size_t max_dirs = kRepairAll);

// `prochook repair [--run-dir DIR]`: prints what it did; exit 0, or 1 when
// some directory could not be repaired.
int RunRepair(const std::vector<std::string>& args);

}  // namespace prochook
