// The per-container state directory, /run/prochook/<id>/: state.json, the
// rendered files, renderer.pid and renderer.log.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>

#include "common/fd.h"
#include "common/result.h"

namespace prochook {

std::string StateDirPath(const std::string& run_dir, const std::string& id);

// Creates run_dir (0700) and the container's directory (0700) in it.
// Fails with EEXIST if the container's directory exists.
Result<> CreateStateDir(const std::string& run_dir, const std::string& dir);

// Removes the directory and the files in it; a missing directory is fine.
Result<> RemoveStateDir(const std::string& dir);

// An exclusive flock on the state directory, held by the hook while it sets
// a container up so `repair` never takes a half-made directory for a
// broken one. wait=false fails with EWOULDBLOCK when someone holds it.
Result<UniqueFd> LockStateDir(const std::string& dir, bool wait);

// renderer.pid holds "<pid> <start time>" so a recycled pid is never taken
// for the renderer.
Result<> WriteRendererPid(const std::string& dir, pid_t pid);
// The renderer's pid if the file names a process that is still that renderer.
std::optional<pid_t> LiveRendererPid(const std::string& dir);

// Stops the renderer named by renderer.pid: SIGTERM, then SIGKILL after
// `grace_ms`. True once it has exited (or was not running); false if it
// outlived the SIGKILL's grace too.
bool StopRenderer(const std::string& dir, int grace_ms = 1000);

}  // namespace prochook
