// What prochook's NRI plugin asks of a container being created: the same
// two OCI hooks `prochook install` and the runtime wrapper add
// (oci/config_edit.h), here as a ContainerAdjustment.
#pragma once

#include <string>
#include <vector>

#include "nri/proto/api.pb.h"

namespace prochook::nri {

namespace api = ::nri::pkg::api::v1alpha1;

// Seconds the runtime gives each hook, as in the hooks `prochook install`
// writes: the hook gives up by itself after half of it (hook/deadline.h).
inline constexpr int kHookTimeoutSeconds = 10;

// Pure. Whether the container gets prochook's hooks: not when it says
// io.prochook.disable=true or already has prochook's hooks (from hooks.d,
// a base spec or the wrapper: a hook whose path is binary, or whose args
// start "prochook", "hook").
bool WantsHooks(const api::Container& container, const std::string& binary);

// Pure. hooks.createRuntime and hooks.poststop running {binary, "prochook",
// "hook", hook_args...} (hook_args: --run-dir, --state-key), when
// WantsHooks; else nothing.
api::ContainerAdjustment AdjustContainer(const api::Container& container, const std::string& binary,
                                         const std::vector<std::string>& hook_args = {});

// Pure. Whether a container already runs prochook's createRuntime hook.
bool HasProchookHook(const api::Container& container, const std::string& binary);

}  // namespace prochook::nri
