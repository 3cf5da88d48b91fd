// What an OCI runtime recorded about a container's init, read from its own
// state directory: runc's <root>/<id>/state.json (init_process_pid,
// init_process_start) or crun's <root>/<id>/status (pid,
// process-start-time). Both compare that start time with /proc/<pid>/stat
// on every later command, which is why those commands must run in the
// container's clock (oci/timens_plan.h).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace prochook {

struct RuntimeInit {
  pid_t pid = 0;
  std::optional<uint64_t> start;  // clock ticks, as the runtime saw them (the container's clock)
};

// Pure: the text of either file.
std::optional<RuntimeInit> ParseRuntimeInit(std::string_view text);

// nullopt when the runtime has no such container (or no pid for it).
std::optional<RuntimeInit> FindRuntimeInit(const std::string& root, const std::string& id);

// The runtime's state root when its command line gives none: crun's
// /run/crun for a program named crun, else runc's /run/runc.
std::string DefaultRuntimeRoot(const std::string& program);

}  // namespace prochook
