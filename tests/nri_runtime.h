// The runtime's half of NRI for tests, written from the same protocol
// description as the plugin (NRI's adaptation: it serves the Runtime
// service on mux connection 2 and calls the Plugin service on 1), over
// bytes: Call and Reply render what a runtime sends, Feed takes what the
// plugin sends and sorts it into the calls it made and the answers it
// gave.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <google/protobuf/message_lite.h>

#include "nri/frame.h"
#include "nri/proto/api.pb.h"
#include "nri/proto/ttrpc.pb.h"

namespace prochook::nri::testing {

namespace api = ::nri::pkg::api::v1alpha1;

// A call the plugin made to the Runtime service.
struct PluginCall {
  uint32_t stream = 0;
  ::ttrpc::Request request;
};

class FakeRuntime {
 public:
  // A call of the Plugin service's method; returns the bytes to send and
  // remembers its stream id in last_stream().
  std::string Call(const std::string& method, const google::protobuf::MessageLite& request,
                   const std::string& service = "nri.pkg.api.v1alpha1.Plugin");
  uint32_t last_stream() const { return next_stream_ - 2; }
  // The answer to the plugin's call on stream: payload, or a failure status.
  std::string Reply(uint32_t stream, const google::protobuf::MessageLite& payload);
  std::string Refuse(uint32_t stream, int32_t code, const std::string& message);

  // Takes bytes from the plugin. False (and why in error()) on anything
  // a runtime would not accept.
  bool Feed(std::string_view bytes);
  const std::string& error() const { return error_; }

  std::vector<PluginCall> calls;                     // to the Runtime service
  std::map<uint32_t, ::ttrpc::Response> responses;  // from the Plugin service, by stream

  // The response on stream parsed as Message; false if absent or failed.
  template <typename Message>
  bool Answer(uint32_t stream, Message& out) const {
    auto it = responses.find(stream);
    return it != responses.end() && it->second.status().code() == 0 &&
           out.ParseFromString(it->second.payload());
  }

 private:
  MuxReader trunk_;
  TtrpcReader plugin_conn_, runtime_conn_;
  uint32_t next_stream_ = 1;
  std::string error_;
};

// A container as NRI describes it on creation.
api::Container MakeContainer(const std::string& id,
                             const std::map<std::string, std::string>& annotations = {});

}  // namespace prochook::nri::testing
