// `prochook repair`: brings the run directory back in line with the
// containers that are running. A container whose renderer died (killed,
// crashed, upgraded away) gets a new one, which rewrites the same files in
// place; the mounts are never touched. A state directory whose container is
// gone (its init exited while no renderer watched it) is removed.
#pragma once

#include <string>
#include <vector>

namespace prochook {

struct RepairReport {
  std::vector<std::string> restarted;  // container ids given a new renderer
  std::vector<std::string> removed;    // state directories of gone containers
  std::vector<std::string> problems;   // "id: why" for directories left alone
};

// skip_id: a container the caller is setting up (its directory is locked
// anyway). Directories locked by a hook in progress are skipped.
RepairReport Repair(const std::string& run_dir, const std::string& skip_id = "");

// `prochook repair [--run-dir DIR]`: prints what it did; exit 0, or 1 when
// some directory could not be repaired.
int RunRepair(const std::vector<std::string>& args);

}  // namespace prochook
