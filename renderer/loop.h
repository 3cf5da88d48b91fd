// The renderer process: refreshes a container's files every interval and
// removes its state directory when the container's init exits.
#pragma once

#include <string>
#include <vector>

#include "common/result.h"
#include "renderer/cpu_view.h"
#include "state/record.h"

namespace prochook {

// Entry of `prochook render --state-dir DIR`. Returns the exit code.
int RunRenderer(const std::string& state_dir);

struct RenderSummary {
  std::vector<std::string> rendered;  // paths relative to the state directory
  CpuView view;                       // the CPU view they were rendered with
  // Each file failing now ("meminfo: <why>"), then each input degraded
  // (ContainerRenderer::Degraded); empty when all is well.
  std::vector<std::string> problems;
};

// Renders every file of the record into the state directory once (a file
// that fails is logged and left out). Used by the hook before the renderer
// exists, so the mounts never show an empty file, and to learn what to
// mount.
RenderSummary RenderAllOnce(const std::string& state_dir, const ContainerRecord& record);

}  // namespace prochook
