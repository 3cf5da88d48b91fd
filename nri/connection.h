// The plugin's socket: dialing the runtime's NRI socket or taking the one
// a runtime that started the plugin passed, and running a Session over it.
#pragma once

#include <string>
#include <string_view>

#include "common/fd.h"
#include "common/result.h"
#include "nri/session.h"

namespace prochook::nri {

inline constexpr char kDefaultSocket[] = "/var/run/nri/nri.sock";

// Connects to the runtime's socket (a unix stream socket at path).
Result<UniqueFd> DialNri(const std::string& path);

// The socket a runtime that launched the plugin passed: NRI_PLUGIN_SOCKET
// holds its fd number. An error unless it is a number naming a socket.
Result<UniqueFd> InheritedSocket(std::string_view env_value);

// How a session ended without a protocol error.
enum class Ending {
  kClosed,    // the runtime closed the connection (a restart, a stop)
  kShutdown,  // ... after telling the plugin it shuts down
};

// Registers over fd and serves the runtime until it closes the
// connection. An error is a protocol violation or a failed read or write;
// the caller closes fd either way.
Result<Ending> RunSession(int fd, Session& session);

}  // namespace prochook::nri
