// The Plugin service prochook serves to the runtime (mux connection 1):
// Configure, Synchronize, CreateContainer and Shutdown, from request
// payload to response payload. No I/O but logging.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.h"
#include "nri/plugin_config.h"

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

class PluginService {
 public:
  explicit PluginService(PluginConfig config) : config_(std::move(config)) {}

  // Answers one call. An error (a payload that is not the method's
  // message) is the connection's end: the runtime then carries on
  // without the plugin, as with any plugin that goes away.
  Result<CallResult> Call(std::string_view method, std::string_view payload);

  bool configured() const { return configured_; }
  bool shut_down() const { return shut_down_; }
  // Containers given the hooks so far.
  uint64_t adjusted() const { return adjusted_; }

 private:
  Result<CallResult> Configure(std::string_view payload);
  Result<CallResult> Synchronize(std::string_view payload);
  Result<CallResult> CreateContainer(std::string_view payload);
  Result<CallResult> Shutdown(std::string_view payload);

  PluginConfig config_;
  bool configured_ = false;
  bool shut_down_ = false;
  uint64_t adjusted_ = 0;
};

}  // namespace prochook::nri
