// `prochook hold --state-dir DIR`: the second holder of a container's
// notify fds. Once a notify fd's last holder closes it, every trapped
// sysinfo fails with ENOSYS for good, and glibc then computes
// _SC_PHYS_PAGES from an unwritten struct (seccomp_unotify(2); FACTS). So
// the agent gives every notify fd it gets to this process as well: should
// the agent die, the fds stay open (trapped calls wait instead of failing)
// until `prochook repair` starts a new agent, which takes them back from
// here. It holds the agent's listening socket too, so the runtime can
// still connect for an exec meanwhile (the connection waits in the
// backlog for the next agent) instead of failing the exec.
//
// It listens on <state dir>/holder (SOCK_SEQPACKET). An agent that
// connects first gets every fd held (the listening socket as 'L', notify
// fds as 'F' messages, then 'E'), then sends its listening socket ('L')
// and each new notify fd ('F'). A later connection is a new agent: it
// replaces the old one. It ends once no agent is connected and it holds
// no notify fd (every process of their filters has exited), nor a
// listening socket for a state directory that still exists. No
// privilege: it only keeps fds.
#pragma once

#include <string>

namespace prochook {

inline constexpr char kHolderSocketFile[] = "holder";
inline constexpr char kTagFd = 'F';
inline constexpr char kTagListener = 'L';
inline constexpr char kTagEnd = 'E';

// ready_fd as for RunAgent. Returns the exit code.
int RunHolder(const std::string& state_dir, int ready_fd);

}  // namespace prochook
