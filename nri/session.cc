#include "nri/session.h"

#include <cctype>

#include "common/log.h"
#include "nri/proto/api.pb.h"
#include "nri/proto/ttrpc.pb.h"

namespace prochook::nri {

namespace api = ::nri::pkg::api::v1alpha1;

namespace {

bool IsNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_' || c == '.' || c == '+';
}

std::string TypeName(uint8_t type) {
  switch (TtrpcType(type)) {
    case TtrpcType::kRequest: return "request";
    case TtrpcType::kResponse: return "response";
    case TtrpcType::kData: return "data";
  }
  return "type " + std::to_string(type);
}

}  // namespace

Result<> CheckIdentity(const Identity& identity) {
  if (identity.name.empty()) return Error::Msg("plugin name is empty");
  for (char c : identity.name) {
    if (!IsNameChar(c)) return Error::Msg("plugin name \"" + identity.name + "\": only [a-zA-Z0-9_.+-]");
  }
  if (identity.idx.size() != 2 || !std::isdigit(uint8_t(identity.idx[0])) ||
      !std::isdigit(uint8_t(identity.idx[1]))) {
    return Error::Msg("plugin index \"" + identity.idx + "\": two digits expected");
  }
  return Ok{};
}

Result<std::string> Session::Start() {
  TRY(CheckIdentity(identity_), "registering");
  api::RegisterPluginRequest registration;
  registration.set_plugin_name(identity_.name);
  registration.set_plugin_idx(identity_.idx);
  ttrpc::Request request;
  request.set_service(kRuntimeService);
  request.set_method("RegisterPlugin");
  request.set_payload(registration.SerializeAsString());
  register_stream_ = next_stream_;
  next_stream_ += 2;
  TRY_ASSIGN(std::string frame,
             RenderTtrpcFrame({register_stream_, uint8_t(TtrpcType::kRequest), 0,
                               request.SerializeAsString()}),
             "registering");
  return RenderMuxFrames(kRuntimeConn, frame);
}

Result<std::string> Session::Feed(std::string_view bytes) {
  TRY_ASSIGN(auto frames, trunk_.Feed(bytes), "reading the NRI socket");
  std::string out;
  for (const MuxFrame& mux : frames) {
    if (mux.conn != kPluginConn && mux.conn != kRuntimeConn) {
      // The Go multiplexer drops such frames; a runtime that sends them
      // expects a service prochook does not have, so say so and stop.
      return Error::Msg("mux frame on connection " + std::to_string(mux.conn) +
                        ", which NRI does not use (1: Plugin, 2: Runtime)");
    }
    TtrpcReader& conn = mux.conn == kPluginConn ? plugin_conn_ : runtime_conn_;
    TRY_ASSIGN(auto messages, conn.Feed(mux.payload),
               "connection " + std::to_string(mux.conn));
    for (const TtrpcFrame& message : messages) {
      if (mux.conn == kPluginConn) {
        TRY_ASSIGN(std::string reply, OnPluginFrame(message), "Plugin service");
        out += reply;
      } else {
        TRY(OnRuntimeFrame(message), "Runtime service");
      }
    }
  }
  return out;
}

Result<std::string> Session::OnPluginFrame(const TtrpcFrame& frame) {
  if (frame.type != uint8_t(TtrpcType::kRequest)) {
    return Error::Msg("ttrpc " + TypeName(frame.type) + " on stream " + std::to_string(frame.stream) +
                      " (only unary requests are served)");
  }
  ttrpc::Request request;
  if (!request.ParseFromString(frame.data)) {
    return Error::Msg("stream " + std::to_string(frame.stream) + ": not a ttrpc Request (" +
                      std::to_string(frame.data.size()) + " bytes)");
  }
  CallResult result;
  if (request.service() == kPluginService) {
    TRY_ASSIGN(result, service_.Call(request.method(), request.payload()), request.method());
  } else {
    result = {kStatusUnimplemented, "service " + request.service() + " is not served here", ""};
  }
  ttrpc::Response response;
  if (result.code != kStatusOk) {
    response.mutable_status()->set_code(result.code);
    response.mutable_status()->set_message(result.message);
  } else {
    response.set_payload(result.payload);
  }
  TRY_ASSIGN(std::string reply,
             RenderTtrpcFrame({frame.stream, uint8_t(TtrpcType::kResponse), 0,
                               response.SerializeAsString()}),
             request.method());
  return RenderMuxFrames(kPluginConn, reply);
}

Result<> Session::OnRuntimeFrame(const TtrpcFrame& frame) {
  if (frame.type != uint8_t(TtrpcType::kResponse)) {
    return Error::Msg("ttrpc " + TypeName(frame.type) + " from the runtime (only responses expected)");
  }
  if (frame.stream != register_stream_ || registered_) {
    // ttrpc's client drops a response for a call it is not waiting for.
    LOG_WARN("Runtime service: response on stream %u, which no call is waiting for", frame.stream);
    return Ok{};
  }
  ttrpc::Response response;
  if (!response.ParseFromString(frame.data)) {
    return Error::Msg("RegisterPlugin: not a ttrpc Response (" + std::to_string(frame.data.size()) +
                      " bytes)");
  }
  if (response.status().code() != kStatusOk) {
    return Error::Msg("RegisterPlugin refused by the runtime (status " +
                      std::to_string(response.status().code()) + "): " + response.status().message());
  }
  registered_ = true;
  LOG_INFO("registered as %s-%s", identity_.idx.c_str(), identity_.name.c_str());
  return Ok{};
}

}  // namespace prochook::nri
