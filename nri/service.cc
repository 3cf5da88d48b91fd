#include "nri/service.h"

#include "common/log.h"
#include "nri/adjust.h"
#include "nri/proto/api.pb.h"

namespace prochook::nri {

namespace {

template <typename Message>
Result<Message> ParseMessage(std::string_view payload, const char* what) {
  Message message;
  if (!message.ParseFromArray(payload.data(), int(payload.size()))) {
    return Error::Msg(std::string(what) + ": not a valid protobuf message (" +
                      std::to_string(payload.size()) + " bytes)");
  }
  return message;
}

template <typename Message>
CallResult Answer(const Message& message) {
  return CallResult{kStatusOk, "", message.SerializeAsString()};
}

}  // namespace

Result<CallResult> PluginService::Call(std::string_view method, std::string_view payload) {
  if (method == "Configure") return Configure(payload);
  if (method == "Synchronize") return Synchronize(payload);
  if (method == "CreateContainer") return CreateContainer(payload);
  if (method == "Shutdown") return Shutdown(payload);
  // A runtime only calls the events subscribed to; an unknown method is a
  // newer runtime's, and ttrpc's answer to it is UNIMPLEMENTED.
  LOG_WARN("%s/%.*s: not implemented", kPluginService, int(method.size()), method.data());
  return CallResult{kStatusUnimplemented, "prochook-nri does not implement " + std::string(method), ""};
}

Result<CallResult> PluginService::Configure(std::string_view payload) {
  TRY_ASSIGN(auto request, ParseMessage<api::ConfigureRequest>(payload, "ConfigureRequest"),
             "Configure");
  auto config = ParsePluginConfig(request.config(), config_);
  if (!config) {
    LOG_ERROR("Configure: %s", config.error().message().c_str());
    return CallResult{kStatusInvalidArgument, config.error().message(), ""};
  }
  config_ = *config;
  configured_ = true;
  LOG_INFO("configured by %s %s (NRI %s): hooks run %s", request.runtime_name().c_str(),
           request.runtime_version().c_str(),
           request.nri_version().empty() ? "version unknown" : request.nri_version().c_str(),
           config_.prochook.c_str());
  api::ConfigureResponse response;
  response.set_events(kEventMask);
  return Answer(response);
}

Result<CallResult> PluginService::Synchronize(std::string_view payload) {
  TRY_ASSIGN(auto request, ParseMessage<api::SynchronizeRequest>(payload, "SynchronizeRequest"),
             "Synchronize");
  // Containers that exist already keep what they were created with: a
  // hook cannot be added to a running container.
  size_t served = 0;
  for (const auto& container : request.containers()) {
    served += HasProchookHook(container, config_.prochook) ? 1 : 0;
  }
  LOG_INFO("synchronized: %d pods, %d containers (%zu with prochook's hooks)%s",
           request.pods_size(), request.containers_size(), served, request.more() ? ", more to come" : "");
  api::SynchronizeResponse response;
  // The runtime splits a large state over several requests and checks
  // that each answer echoes `more`.
  response.set_more(request.more());
  return Answer(response);
}

Result<CallResult> PluginService::CreateContainer(std::string_view payload) {
  TRY_ASSIGN(auto request,
             ParseMessage<api::CreateContainerRequest>(payload, "CreateContainerRequest"),
             "CreateContainer");
  api::CreateContainerResponse response;
  *response.mutable_adjust() = AdjustContainer(request.container(), config_.prochook);
  const bool added = response.adjust().hooks().create_runtime_size() > 0;
  adjusted_ += added ? 1 : 0;
  LOG_INFO("container %s (%s/%s): %s", request.container().id().c_str(),
           request.pod().namespace_().c_str(), request.container().name().c_str(),
           added ? "hooks added" : "left alone (io.prochook.disable or prochook's hooks present)");
  return Answer(response);
}

Result<CallResult> PluginService::Shutdown(std::string_view payload) {
  TRY(ParseMessage<api::Empty>(payload, "Empty"), "Shutdown");
  shut_down_ = true;
  LOG_INFO("the runtime is shutting down");
  return Answer(api::Empty());
}

}  // namespace prochook::nri
