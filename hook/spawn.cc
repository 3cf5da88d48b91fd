#include "hook/spawn.h"

#include "common/spawn.h"

namespace prochook {

Result<pid_t> SpawnRenderer(const std::string& state_dir) {
  TRY_ASSIGN(pid_t renderer, SpawnDetached({"render", "--state-dir", state_dir}), "starting the renderer");
  return renderer;
}

}  // namespace prochook
