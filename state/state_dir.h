// The per-container state directory, /run/prochook/<id>.<hash>/:
// state.json, the rendered files, renderer.pid and renderer.log.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <string_view>

#include "common/fd.h"
#include "common/result.h"
#include "state/record.h"

namespace prochook {

// An OCI id is unique only within one runtime root or containerd
// namespace: two runc roots may each run a "web". The directory is named
// by the id (cut to kMaxIdInName characters) and 16 hex digits of a stable
// hash of the bundle path and the id, both of which the runtime sends at
// every stage (the init's pid is 0 at poststop): "web.4f1c...". Two
// containers share it only if they share id and bundle; the hook checks
// the record's init before it takes a directory over. The NRI plugin,
// which never learns the bundle, passes a random key in its place (to the
// hooks as --state-key): such a directory is its container's alone.
std::string StateDirName(const std::string& id, const std::string& bundle);
std::string StateDirPath(const std::string& run_dir, const std::string& id, const std::string& bundle);
inline constexpr size_t kMaxIdInName = 128;

// FNV-1a, 64 bits: stable across builds and versions (std::hash is not),
// as a directory name must be.
uint64_t StableHash(std::string_view data);

// Creates run_dir (0700) and the container's directory (0700) in it.
// Fails with EEXIST if the container's directory exists.
Result<> CreateStateDir(const std::string& run_dir, const std::string& dir);

// Removes the directory and the files in it; a missing directory is fine.
Result<> RemoveStateDir(const std::string& dir);

// An exclusive flock on the state directory, held by the hook while it sets
// a container up so `repair` never takes a half-made directory for a
// broken one. wait=false fails with EWOULDBLOCK when someone holds it.
Result<UniqueFd> LockStateDir(const std::string& dir, bool wait);

// The directory's state.json.
Result<ContainerRecord> LoadRecord(const std::string& dir);
// Whether the record's init is still running as the process it names (pid
// and start time, not a zombie): a directory whose init is alive is in use.
bool InitAlive(const ContainerRecord& record);

// renderer.pid (and agent.pid) hold "<pid> <start time>" so a recycled pid
// is never taken for the renderer (or the agent).
Result<> WritePidFile(const std::string& dir, const char* file, pid_t pid);
// The pid if the file names a process that is still the one it was written for.
std::optional<pid_t> LivePidInFile(const std::string& dir, const char* file);
inline Result<> WriteRendererPid(const std::string& dir, pid_t pid) {
  return WritePidFile(dir, kRendererPidFile, pid);
}
inline std::optional<pid_t> LiveRendererPid(const std::string& dir) {
  return LivePidInFile(dir, kRendererPidFile);
}
// A directory the runtime wrapper or the NRI plugin made for a
// container's sysinfo agent holds its socket: while the agent lives, the
// hook and repair leave the directory (and the socket in it) in place.
inline std::optional<pid_t> LiveAgentPid(const std::string& dir) { return LivePidInFile(dir, kAgentPidFile); }

// Stops the renderer named by renderer.pid: SIGTERM, then SIGKILL after
// `grace_ms`. True once it has exited (or was not running); false if it
// outlived the SIGKILL's grace too.
bool StopRenderer(const std::string& dir, int grace_ms = 1000);

}  // namespace prochook
