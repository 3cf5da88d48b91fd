// Trapping sysinfo(2) for the agent: the runtime wrapper adds a
// SCMP_ACT_NOTIFY rule for sysinfo and linux.seccomp.listenerPath to
// config.json (runc >= 1.1 and crun >= 0.19 then hand the notify fd to the
// listener), keeping the engine's profile otherwise as it was.
#pragma once

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

// Pure. libseccomp keeps the first rule it is given for a syscall, and
// Docker's default profile allows sysinfo in its big SCMP_ACT_ALLOW rule:
// so sysinfo is taken out of every allow rule's names (a rule left with no
// names is dropped) and the notify rule appended. Declined, leaving the
// config alone: a profile with a listenerPath of its own (another agent),
// a rule for sysinfo with any other action, and a profile that does not
// allow sysinfo at all (the agent's "continue" would allow it). A config
// without linux.seccomp gets a minimal profile: default allow, the
// host's architectures (native and compat), sysinfo notify.
Result<SysinfoConfig> AddSysinfoNotify(std::string_view config_json, const std::string& listener_path);

}  // namespace prochook
