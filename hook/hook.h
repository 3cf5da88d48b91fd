// `prochook hook`: the OCI hook entry for every stage.
#pragma once

#include <string>
#include <string_view>

namespace prochook {

struct HookArgs {
  std::string run_dir;  // state directories live here (default /run/prochook)
  std::string stage;    // optional: "poststop" forces cleanup; else from status
  // optional: names the state directory in place of the bundle
  // (StateDirName(id, state_key)). The NRI plugin, which never learns the
  // bundle, starts a sysinfo agent in such a directory and gives every
  // hook of that container the same key.
  std::string state_key;
};

// The container's state directory: named by its id and its bundle, or the
// key its hooks were given.
std::string HookStateDirName(const HookArgs& args, const std::string& id, const std::string& bundle);

// Exit codes: 0 done or declined (fail-open); 1 declined under
// fail-closed; 2 malformed state or config.
int RunHook(const HookArgs& args, std::string_view state_text);

}  // namespace prochook
