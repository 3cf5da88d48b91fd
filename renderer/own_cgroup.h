// Which cgroup the renderer lives in.
//
// A renderer is forked by the hook, so it would start in whatever cgroup ran
// the runtime (a shell, containerd's shim, conmon). The hook's spawn joins
// a dedicated "prochook" cgroup at the top of each hierarchy just before
// forking it, because:
//  - not the container's: the container must not pay for it, count it in
//    its tasks and load, or OOM-kill it; we render those very numbers;
//  - not the engine's: shims and conmon are killed with their cgroups on
//    their own schedule, and the engine should not be charged for it;
//  - one place: an operator can see, limit and account for all renderers.
// cpuset is left alone (a new v1 cpuset cgroup has no CPUs until
// configured). Failures are logged and the renderer runs where it is.
#pragma once

#include <string>

namespace prochook {

inline constexpr char kRendererCgroup[] = "prochook";

// Moves the calling process.
void JoinRendererCgroup();

}  // namespace prochook
