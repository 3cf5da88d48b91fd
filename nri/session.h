// One connection of prochook's plugin to an NRI runtime, as a state
// machine over bytes: the caller writes Start()'s bytes, then feeds what
// it reads and writes what Feed returns. No I/O but logging, so the whole
// protocol is tested without a socket.
//
// On the trunk, the plugin registers itself by calling the runtime's
// RegisterPlugin (connection 2, the plugin is the ttrpc client) and serves
// the runtime's calls (connection 1, the plugin is the ttrpc server). The
// runtime may call Configure before it answers RegisterPlugin (NRI's
// adaptation signals the registration and configures concurrently), so
// both directions are handled as frames arrive, in any order.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "common/result.h"
#include "nri/frame.h"
#include "nri/service.h"

namespace prochook::nri {

struct Identity {
  std::string name;  // [a-zA-Z0-9_.+-]+
  std::string idx;   // two digits: where the plugin runs among others
};

// Pure. The checks NRI makes at registration, made before connecting.
Result<> CheckIdentity(const Identity& identity);

class Session {
 public:
  Session(Identity identity, PluginConfig config, AgentStarter start_agent = nullptr)
      : identity_(std::move(identity)), service_(std::move(config), std::move(start_agent)) {}

  // The first bytes to send: the RegisterPlugin call.
  Result<std::string> Start();

  // Bytes read from the trunk in; bytes to write back out. An error is
  // a protocol violation (a malformed or oversized frame, a connection id
  // NRI does not use, a message that does not parse, a refused
  // registration): the connection must be closed.
  Result<std::string> Feed(std::string_view bytes);

  bool registered() const { return registered_; }
  const PluginService& service() const { return service_; }

 private:
  Result<std::string> OnPluginFrame(const TtrpcFrame& frame);
  Result<> OnRuntimeFrame(const TtrpcFrame& frame);

  Identity identity_;
  PluginService service_;
  MuxReader trunk_;
  TtrpcReader plugin_conn_;   // requests from the runtime
  TtrpcReader runtime_conn_;  // responses to our calls
  uint32_t next_stream_ = 1;  // a ttrpc client's streams are odd
  uint32_t register_stream_ = 0;
  bool registered_ = false;
};

}  // namespace prochook::nri
