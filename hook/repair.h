// `prochook repair`: brings the run directory back in line with the
// containers that are running. A container whose renderer died (killed,
// crashed, upgraded away) gets a new one, which rewrites the same files in
// place; the mounts are never touched. A state directory whose container is
// gone (its init exited while no renderer watched it) is removed.
#pragma once

#include <chrono>
#include <string>
#include <vector>

namespace prochook {

struct RepairReport {
  std::vector<std::string> restarted;  // container ids given a new renderer
  std::vector<std::string> removed;    // state directories of gone containers
  std::vector<std::string> problems;   // "id: why" for directories left alone
};

// skip_id: the directory name (StateDirName) of a container the caller is
// setting up (its directory is locked anyway). Reports name directories. Directories locked by a hook in progress are skipped. Stops,
// leaving the rest for the next run, once stop_by has passed.
RepairReport Repair(const std::string& run_dir, const std::string& skip_id = "",
                    std::chrono::steady_clock::time_point stop_by =
                        std::chrono::steady_clock::time_point::max());

// `prochook repair [--run-dir DIR]`: prints what it did; exit 0, or 1 when
// some directory could not be repaired.
int RunRepair(const std::vector<std::string>& args);

}  // namespace prochook
