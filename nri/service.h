// The Plugin service prochook serves to the runtime (mux connection 1):
// Configure, Synchronize, CreateContainer and Shutdown, from request
// payload to response payload. No I/O but logging and the AgentStarter
// it is given.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "nri/plugin_config.h"
#include "nri/proto/api.pb.h"
#include "nri/seccomp.h"

namespace prochook::nri {

inline constexpr char kPluginService[] = "nri.pkg.api.v1alpha1.Plugin";
inline constexpr char kRuntimeService[] = "nri.pkg.api.v1alpha1.Runtime";

// gRPC status codes a ttrpc Response carries.
inline constexpr int32_t kStatusOk = 0;
inline constexpr int32_t kStatusInvalidArgument = 3;
inline constexpr int32_t kStatusUnimplemented = 12;

// The events prochook subscribes to: CreateContainer only (bit
// CREATE_CONTAINER - 1). A runtime refuses a plugin that subscribes to an
// event it does not know, and subscribes one that answers 0 to every
// event, so this is exactly one bit every NRI runtime has.
inline constexpr int32_t kEventMask = 1 << (4 - 1);

// A method's answer: a status and, on success, the response message.
struct CallResult {
  int32_t code = kStatusOk;
  std::string message;
  std::string payload;
};

// Makes the state directory dir and starts the container's sysinfo agent
// listening in it (prochook-nri: agent/setup.h PrepareAgent, running the
// configured prochook); an error leaves neither behind.
using AgentStarter = std::function<Result<>(const PluginConfig& config, const std::string& dir)>;

class PluginService {
 public:
  // start_agent: none, and sysinfo is never trapped (the hooks alone).
  explicit PluginService(PluginConfig config, AgentStarter start_agent = nullptr)
      : config_(std::move(config)), start_agent_(std::move(start_agent)) {}

  // Answers one call. An error (a payload that is not the method's
  // message) is the connection's end: the runtime then carries on
  // without the plugin, as with any plugin that goes away.
  Result<CallResult> Call(std::string_view method, std::string_view payload);

  bool configured() const { return configured_; }
  bool shut_down() const { return shut_down_; }
  // Containers given the hooks so far, and of them those whose sysinfo
  // is trapped for an agent.
  uint64_t adjusted() const { return adjusted_; }
  uint64_t trapped() const { return trapped_; }

 private:
  Result<CallResult> Configure(std::string_view payload);
  Result<CallResult> Synchronize(std::string_view payload);
  Result<CallResult> CreateContainer(std::string_view payload);
  Result<CallResult> Shutdown(std::string_view payload);
  // The container's policy with sysinfo trapped, its agent listening in a
  // new state directory whose key is appended to hook_args; or nullopt and
  // why (*note), with no agent.
  std::optional<api::LinuxSeccomp> StartSysinfoAgent(const api::Container& container,
                                                     std::vector<std::string>* hook_args, std::string* note);

  PluginConfig config_;
  AgentStarter start_agent_;
  RuntimeSeccomp runtime_seccomp_;
  bool configured_ = false;
  bool shut_down_ = false;
  uint64_t adjusted_ = 0;
  uint64_t trapped_ = 0;
};

}  // namespace prochook::nri
