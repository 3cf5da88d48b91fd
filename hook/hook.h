// `prochook hook`: the OCI hook entry for every stage.
#pragma once

#include <string>
#include <string_view>

namespace prochook {

struct HookArgs {
  std::string run_dir;  // state directories live here (default /run/prochook)
  std::string stage;    // optional: "poststop" forces cleanup; else from status
};

// Exit codes: 0 done or declined (fail-open); 1 declined under
// fail-closed; 2 malformed state or config.
int RunHook(const HookArgs& args, std::string_view state_text);

}  // namespace prochook
