// The renderer process: refreshes a container's files every interval and
// removes its state directory when the container's init exits.
#pragma once

#include <string>

#include "common/result.h"
#include "hook/record.h"

namespace prochook {

// Entry of `prochook render --state-dir DIR`. Returns the exit code.
int RunRenderer(const std::string& state_dir);

// Renders every file of the record into the state directory once.
// Used by the hook before the renderer exists, so the mounts never show an
// empty file.
Result<> RenderAllOnce(const std::string& state_dir, const ContainerRecord& record);

}  // namespace prochook
