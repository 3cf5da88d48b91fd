// Passing fds between prochook's processes over unix sockets (SCM_RIGHTS,
// unix(7)): the agent and the holder of its notify fds.
#pragma once

#include <sys/socket.h>

#include <string>
#include <vector>

#include "common/fd.h"
#include "common/result.h"

namespace prochook {

// The fds a received message carried, each owned (MSG_CMSG_CLOEXEC).
std::vector<UniqueFd> TakeRights(struct msghdr* msg);

// One message: a tag byte and up to kMaxFdsPerMessage fds.
inline constexpr size_t kMaxFdsPerMessage = 64;
Result<> SendFds(int sock, char tag, const std::vector<int>& fds);
// Receives one message: its tag (0 at end of stream) and fds.
Result<char> ReceiveFds(int sock, std::vector<UniqueFd>* fds);

// A SOCK_SEQPACKET connection to the socket at path (message boundaries
// kept, so fds never arrive with another message's byte).
Result<UniqueFd> ConnectSeqpacket(const std::string& path);

}  // namespace prochook
