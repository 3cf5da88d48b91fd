// Trapping sysinfo(2) for the agent: the runtime wrapper adds a
// SCMP_ACT_NOTIFY rule for sysinfo and linux.seccomp.listenerPath to
// config.json (runc >= 1.1 and crun >= 0.19 then hand the notify fd to the
// listener), keeping the engine's profile otherwise as it was.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"

namespace prochook {

enum class SysinfoEdit {
  kAdded,     // the notify rule and listenerPath were added
  kDisabled,  // io.prochook.disable=true or io.prochook.sysinfo=off
  kDeclined,  // the profile decides sysinfo itself: left alone (reason says why)
};

struct SysinfoConfig {
  SysinfoEdit edit;
  std::string text;    // the new config.json when kAdded, else empty
  std::string reason;  // why, when kDeclined
};

// Pure. listener_path: the agent's socket, <run_dir>/<state dir>/
// kAgentSocketFile. A runtime may be given the same bundle again (`runc
// run` twice, podman): a listenerPath of prochook's own under run_dir is
// an earlier edit of this bundle, replaced by listener_path. libseccomp keeps the first rule it is given for a syscall, and
// Docker's default profile allows sysinfo in its big SCMP_ACT_ALLOW rule:
// so sysinfo is taken out of every allow rule's names (a rule left with no
// names is dropped) and the notify rule appended. Declined, leaving the
// config alone: a profile with a listenerPath of its own (another agent),
// a rule for sysinfo with any other action, and a profile that does not
// allow sysinfo at all (the agent's "continue" would allow it). A config
// without linux.seccomp gets a minimal profile: default allow, the
// host's architectures (native and compat), sysinfo notify.
Result<SysinfoConfig> AddSysinfoNotify(std::string_view config_json, const std::string& listener_path,
                                       const std::string& run_dir);

// Pure. Undoes an earlier edit for a container that gets no agent: a
// listenerPath of prochook's own under run_dir is removed and the notify
// rule for sysinfo allows it (as the profile did before it was trapped).
// nullopt when there is nothing of prochook's to undo.
Result<std::optional<std::string>> RemoveSysinfoNotify(std::string_view config_json, const std::string& run_dir);

}  // namespace prochook
