// The command line an engine gives an OCI runtime (runc, crun):
//   runtime [global flags] COMMAND [command flags] [ID]
// prochook's runtime wrapper only needs to know the command, the state
// root, for create and run the bundle and id, and for other commands their
// operands (one of which names the container); everything else passes
// through untouched.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace prochook {

struct RuntimeCommand {
  std::string command;                // "create", "run", "delete", ... ("" if none)
  std::optional<std::string> bundle;  // --bundle/-b of create and run, as given
  std::optional<std::string> id;      // the container id of create and run
  std::optional<std::string> root;    // the global --root, as given
  // The command's operands in order (flags and their values left out):
  // "exec ID CMD ARGS..." gives {ID, CMD, ARGS...}, "kill ID SIG" {ID, SIG}.
  std::vector<std::string> operands;
};

// Pure. Global flags that take a separate value (runc and crun: --root,
// --log, --log-format, --log-level, --criu, --rootless, --cgroup-manager)
// are skipped with their value, so `--root create` is not a command.
RuntimeCommand ParseRuntimeCommand(const std::vector<std::string>& args);

// create and run read config.json from the bundle (default: the current
// directory); those are the commands whose bundle gets prochook's hooks.
bool CommandCreatesContainer(const std::string& command);

}  // namespace prochook
