#include "tests/nri_runtime.h"

namespace prochook::nri::testing {

namespace {

std::string Frame(uint32_t conn, uint32_t stream, TtrpcType type, const std::string& data) {
  return RenderMuxFrames(conn, *RenderTtrpcFrame({stream, uint8_t(type), 0, data}));
}

}  // namespace

std::string FakeRuntime::Call(const std::string& method, const google::protobuf::MessageLite& request,
                              const std::string& service) {
  ::ttrpc::Request r;
  r.set_service(service);
  r.set_method(method);
  r.set_payload(request.SerializeAsString());
  r.set_timeout_nano(2'000'000'000);
  const uint32_t stream = next_stream_;
  next_stream_ += 2;
  return Frame(kPluginConn, stream, TtrpcType::kRequest, r.SerializeAsString());
}

std::string FakeRuntime::Reply(uint32_t stream, const google::protobuf::MessageLite& payload) {
  ::ttrpc::Response r;
  r.set_payload(payload.SerializeAsString());
  return Frame(kRuntimeConn, stream, TtrpcType::kResponse, r.SerializeAsString());
}

std::string FakeRuntime::Refuse(uint32_t stream, int32_t code, const std::string& message) {
  ::ttrpc::Response r;
  r.mutable_status()->set_code(code);
  r.mutable_status()->set_message(message);
  return Frame(kRuntimeConn, stream, TtrpcType::kResponse, r.SerializeAsString());
}

bool FakeRuntime::Feed(std::string_view bytes) {
  auto frames = trunk_.Feed(bytes);
  if (!frames) {
    error_ = frames.error().message();
    return false;
  }
  for (const MuxFrame& mux : *frames) {
    if (mux.conn != kPluginConn && mux.conn != kRuntimeConn) {
      error_ = "frame on connection " + std::to_string(mux.conn);
      return false;
    }
    const bool is_runtime = mux.conn == kRuntimeConn;
    auto messages = (is_runtime ? runtime_conn_ : plugin_conn_).Feed(mux.payload);
    if (!messages) {
      error_ = messages.error().message();
      return false;
    }
    for (const TtrpcFrame& m : *messages) {
      const auto expected = is_runtime ? TtrpcType::kRequest : TtrpcType::kResponse;
      if (m.type != uint8_t(expected) || m.flags != 0) {
        error_ = "unexpected ttrpc type " + std::to_string(m.type) + " flags " +
                 std::to_string(m.flags) + " on connection " + std::to_string(mux.conn);
        return false;
      }
      bool parsed;
      if (is_runtime) {
        calls.push_back({m.stream, {}});
        parsed = calls.back().request.ParseFromString(m.data);
        // A ttrpc client's streams are odd and increasing.
        if (m.stream % 2 == 0) {
          error_ = "plugin call on even stream " + std::to_string(m.stream);
          return false;
        }
      } else {
        parsed = responses[m.stream].ParseFromString(m.data);
      }
      if (!parsed) {
        error_ = "unparsable ttrpc message on connection " + std::to_string(mux.conn);
        return false;
      }
    }
  }
  return true;
}

api::Container MakeContainer(const std::string& id,
                             const std::map<std::string, std::string>& annotations) {
  api::Container c;
  c.set_id(id);
  c.set_pod_sandbox_id("pod-" + id);
  c.set_name("ctr-" + id);
  for (const auto& [k, v] : annotations) (*c.mutable_annotations())[k] = v;
  return c;
}

}  // namespace prochook::nri::testing
