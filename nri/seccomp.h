// The seccomp half of prochook's adjustment: a runtime whose NRI knows
// seccomp policies (v0.10.0+) sends the container's in CreateContainer;
// the plugin answers with the same policy, sysinfo(2) trapped for the
// container's agent (oci/seccomp_edit.h, as the runtime wrapper edits
// config.json), which NRI puts in the container's config in its place.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/result.h"
#include "nri/proto/api.pb.h"

namespace prochook::nri {

namespace api = ::nri::pkg::api::v1alpha1;

// Pure. NRI's LinuxSeccomp as config.json's linux.seccomp, field for field
// (runtime-spec config-linux.md; the strings as they are, as NRI's own
// conversion does). Empty strings and lists are left out, as Go's
// omitempty leaves them.
nlohmann::json SeccompToOci(const api::LinuxSeccomp& policy);

// Pure. Back from linux.seccomp; a field of the wrong type is an error
// naming it ("syscalls[3]: args[0]: index: ...").
Result<api::LinuxSeccomp> SeccompFromOci(const nlohmann::json& seccomp);

// What the runtime is known to apply faithfully.
struct RuntimeSeccomp {
  // NRI before v0.12.0 dereferences a nil pointer converting a rule's
  // errno_ret back to OCI: a runtime of it panics on such a policy in an
  // adjustment.
  bool errno_ret_safe = false;
};

// Pure. From the NRI version Configure carries (sent from v0.12.0 on, but
// also by builds of NRI's main between releases, as a Go pseudo-version
// "v0.9.1-0.20250101-abcdef" based on the release before): safe from
// "v0.12.0" on; empty, unknown ("0.0.0-unknown") or unparsable is not.
RuntimeSeccomp RuntimeSeccompFor(std::string_view nri_version);

struct SysinfoTrap {
  std::optional<api::LinuxSeccomp> policy;  // sysinfo trapped; nullopt: declined
  std::string reason;                       // why declined
};

// Pure. The container's policy with sysinfo trapped for the agent at
// listener_path (an agent socket in run_dir), or why not: the container
// sends no policy (an older runtime, or no seccomp), io.prochook.disable
// or io.prochook.sysinfo=off, a policy AddSysinfoNotify declines, a
// default_errno other than EPERM (NRI's adjustment drops it: the default
// would change), an errno_ret the runtime cannot take back.
Result<SysinfoTrap> TrapSysinfo(const api::Container& container, const std::string& listener_path,
                                const std::string& run_dir, const RuntimeSeccomp& runtime);

}  // namespace prochook::nri
