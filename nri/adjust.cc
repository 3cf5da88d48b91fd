#include "nri/adjust.h"

#include <map>

#include "oci/options.h"

namespace prochook::nri {

namespace {

bool IsProchookHook(const api::Hook& hook, const std::string& binary) {
  return hook.path() == binary ||
         (hook.args_size() >= 2 && hook.args(0) == "prochook" && hook.args(1) == "hook");
}

void AddHook(api::Hook* hook, const std::string& binary, const std::vector<std::string>& hook_args) {
  hook->set_path(binary);
  hook->add_args("prochook");
  hook->add_args("hook");
  for (const std::string& arg : hook_args) hook->add_args(arg);
  hook->mutable_timeout()->set_value(kHookTimeoutSeconds);
}

}  // namespace

bool HasProchookHook(const api::Container& container, const std::string& binary) {
  for (const auto& hook : container.hooks().create_runtime()) {
    if (IsProchookHook(hook, binary)) return true;
  }
  // Engines that only write prestart (README: runc, crun) serve from there.
  for (const auto& hook : container.hooks().prestart()) {
    if (IsProchookHook(hook, binary)) return true;
  }
  return false;
}

bool WantsHooks(const api::Container& container, const std::string& binary) {
  const std::map<std::string, std::string> annotations(container.annotations().begin(),
                                                       container.annotations().end());
  return !ParseOptions(annotations).disabled && !HasProchookHook(container, binary);
}

api::ContainerAdjustment AdjustContainer(const api::Container& container, const std::string& binary,
                                         const std::vector<std::string>& hook_args) {
  api::ContainerAdjustment adjust;
  if (!WantsHooks(container, binary)) return adjust;
  AddHook(adjust.mutable_hooks()->add_create_runtime(), binary, hook_args);
  AddHook(adjust.mutable_hooks()->add_poststop(), binary, hook_args);
  return adjust;
}

}  // namespace prochook::nri
