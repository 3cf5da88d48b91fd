// How the runtime hands the agent a notify fd (linux.seccomp.listenerPath):
// it connects to the agent's unix socket and sends the container's state
// as JSON ({"ociVersion", "fds": ["seccompFd"], "pid", "state": {...,
// "pid": init}}) with the notify fd attached (SCM_RIGHTS), then closes.
// runc does so once for the init and once more for every `runc exec`.
#pragma once

#include <sys/socket.h>
#include <sys/types.h>

#include <string>
#include <string_view>

#include "common/fd.h"
#include "common/result.h"

namespace prochook {

// A unix socket (SOCK_STREAM, or SOCK_SEQPACKET) listening at path (which
// must not exist), mode 0600, non-blocking.
Result<UniqueFd> ListenAt(const std::string& path, int type = SOCK_STREAM);

struct Handoff {
  UniqueFd notify_fd;
  pid_t init_pid = 0;  // state.pid of the JSON, 0 if it has none
};

// Accepts one connection on listen_fd and reads what the runtime sent,
// up to its end (bounded in size and time: a peer that stalls is dropped).
Result<Handoff> AcceptHandoff(int listen_fd);

// Pure. state.pid from the runtime's message, checking that it names a
// seccompFd; 0 when there is no pid.
Result<pid_t> ParseHandoffMessage(std::string_view json);

}  // namespace prochook
