#include "nri/service.h"

#include <sys/random.h>

#include "common/log.h"
#include "nri/adjust.h"
#include "state/record.h"
#include "state/state_dir.h"

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

// A key no other container's state directory has (state/state_dir.h:
// the directory is named by the id and a hash of the key): 128 random bits.
Result<std::string> NewStateKey() {
  unsigned char bytes[16];
  if (::getrandom(bytes, sizeof bytes, 0) != static_cast<ssize_t>(sizeof bytes)) return Error::Sys("getrandom");
  std::string key = "nri-";
  static constexpr char kHex[] = "0123456789abcdef";
  for (unsigned char b : bytes) {
    key += kHex[b >> 4];
    key += kHex[b & 15];
  }
  return key;
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
  runtime_seccomp_ = RuntimeSeccompFor(request.nri_version());
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
  const api::Container& container = request.container();
  api::CreateContainerResponse response;
  std::vector<std::string> hook_args;
  if (config_.run_dir != kDefaultRunDir) hook_args = {"--run-dir", config_.run_dir};
  std::optional<api::LinuxSeccomp> trapped;
  std::string sysinfo;
  if (WantsHooks(container, config_.prochook)) trapped = StartSysinfoAgent(container, &hook_args, &sysinfo);
  *response.mutable_adjust() = AdjustContainer(container, config_.prochook, hook_args);
  if (trapped) *response.mutable_adjust()->mutable_linux()->mutable_seccomp_policy() = std::move(*trapped);
  const bool added = response.adjust().hooks().create_runtime_size() > 0;
  adjusted_ += added ? 1 : 0;
  trapped_ += response.adjust().linux().has_seccomp_policy() ? 1 : 0;
  LOG_INFO("container %s (%s/%s): %s%s", container.id().c_str(), request.pod().namespace_().c_str(),
           container.name().c_str(),
           added ? "hooks added; " : "left alone (io.prochook.disable or prochook's hooks present)",
           added ? sysinfo.c_str() : "");
  return Answer(response);
}

std::optional<api::LinuxSeccomp> PluginService::StartSysinfoAgent(const api::Container& container,
                                                                  std::vector<std::string>* hook_args,
                                                                  std::string* note) {
  if (!start_agent_ || !config_.sysinfo) {
    *note = "sysinfo left to the kernel (sysinfo: off)";
    return std::nullopt;
  }
  auto fail = [&](const std::string& why) {
    *note = "sysinfo left to the kernel: " + why;
    return std::nullopt;
  };
  if (auto valid = ValidateContainerId(container.id()); !valid) return fail(valid.error().message());
  auto key = NewStateKey();
  if (!key) return fail(key.error().message());
  const std::string dir = StateDirPath(config_.run_dir, container.id(), *key);
  auto trap = TrapSysinfo(container, dir + "/" + kAgentSocketFile, config_.run_dir, runtime_seccomp_);
  if (!trap) return fail(trap.error().message());
  if (!trap->policy) return fail(trap->reason);
  if (auto started = start_agent_(config_, dir); !started) return fail(started.error().message());
  hook_args->push_back("--state-key");
  hook_args->push_back(*key);
  *note = "sysinfo answered by the agent in " + dir;
  return std::move(trap->policy);
}

Result<CallResult> PluginService::Shutdown(std::string_view payload) {
  TRY(ParseMessage<api::Empty>(payload, "Empty"), "Shutdown");
  shut_down_ = true;
  LOG_INFO("the runtime is shutting down");
  return Answer(api::Empty());
}

}  // namespace prochook::nri
