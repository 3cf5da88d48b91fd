// `prochook agent --state-dir DIR`: one container's sysinfo(2) agent
// (wrapper mode, the NRI plugin). The runtime wrapper or prochook-nri
// starts it before the runtime makes the container; it listens on <state dir>/sysinfo (a socket), takes every
// notify fd the runtime hands it (the init's, then one per exec) and
// answers each trapped sysinfo from the renderer's files (agent/figures.h),
// or lets the real call run when it cannot.
//
// It ends once it is of no more use, leaving nothing behind: every notify
// fd it got has hung up (no process of the container is left) and the
// container's init has exited, or, before any fd came, the state
// directory was removed (or 10 minutes passed with no container). Then it
// removes the state directory unless a renderer is there to do so.
#pragma once

#include <string>

namespace prochook {

// ready_fd (or -1): written one byte and closed once the socket listens,
// so the wrapper execs the runtime only then. Returns the exit code.
int RunAgent(const std::string& state_dir, int ready_fd);

}  // namespace prochook
