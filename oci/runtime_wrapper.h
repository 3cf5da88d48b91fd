// `prochook runtime`: an OCI runtime in front of the real one, for engines
// without hooks.d (Docker's "runtimes" in daemon.json, containerd's runc
// shim BinaryName). For create and run it adds prochook's hooks to the
// bundle's config.json and traps sysinfo(2) for a per-container agent it
// starts (agent/setup.h); then it execs the real runtime with the same
// arguments, whatever the command.
#pragma once

#include <string>
#include <vector>

namespace prochook {

inline constexpr char kRuntimeFlag[] = "--prochook-runtime";
inline constexpr char kRuntimeEnv[] = "PROCHOOK_RUNTIME";
// Invoked under this name (a symlink), prochook is the wrapper.
inline constexpr char kRuntimeLinkName[] = "prochook-runtime";

// args: [--prochook-runtime=PATH] then the runtime's own arguments. The
// real runtime is that flag, else $PROCHOOK_RUNTIME, else runc from PATH.
// self: prochook's absolute path, written into the hooks. Returns only on
// failure to exec (exit code).
int RunRuntimeWrapper(std::vector<std::string> args, const std::string& self);

}  // namespace prochook
