#include "nri/seccomp.h"

#include <errno.h>

#include <cstdint>
#include <cstdio>
#include <map>
#include <tuple>

#include "oci/seccomp_edit.h"

namespace prochook::nri {
namespace {

using Json = nlohmann::json;

void PutString(Json& obj, const char* key, const std::string& value) {
  if (!value.empty()) obj[key] = value;
}

template <typename Repeated>
void PutStrings(Json& obj, const char* key, const Repeated& values) {
  if (values.empty()) return;
  Json list = Json::array();
  for (const auto& v : values) list.push_back(v);
  obj[key] = std::move(list);
}

// obj[key] when present and not null; nullptr otherwise.
const Json* Field(const Json& obj, const char* key) {
  auto it = obj.find(key);
  return it == obj.end() || it->is_null() ? nullptr : &*it;
}

Result<std::string> StringOf(const Json& obj, const char* key) {
  const Json* v = Field(obj, key);
  if (v == nullptr) return std::string();
  if (!v->is_string()) return Error::Msg("not a string");
  return v->get<std::string>();
}

Result<std::vector<std::string>> StringsOf(const Json& obj, const char* key) {
  std::vector<std::string> out;
  const Json* v = Field(obj, key);
  if (v == nullptr) return out;
  if (!v->is_array()) return Error::Msg("not an array");
  for (const Json& s : *v) {
    if (!s.is_string()) return Error::Msg("holds a non-string");
    out.push_back(s.get<std::string>());
  }
  return out;
}

Result<std::optional<uint64_t>> UnsignedOf(const Json& obj, const char* key, uint64_t max) {
  const Json* v = Field(obj, key);
  if (v == nullptr) return std::optional<uint64_t>();
  if (!v->is_number_unsigned() || v->get<uint64_t>() > max) {
    return Error::Msg("not an unsigned number up to " + std::to_string(max));
  }
  return std::optional<uint64_t>(v->get<uint64_t>());
}

Result<api::LinuxSeccompArg> ArgFromOci(const Json& arg) {
  if (!arg.is_object()) return Error::Msg("not an object");
  api::LinuxSeccompArg out;
  TRY_ASSIGN(auto index, UnsignedOf(arg, "index", UINT32_MAX), "index");
  TRY_ASSIGN(auto value, UnsignedOf(arg, "value", UINT64_MAX), "value");
  TRY_ASSIGN(auto value_two, UnsignedOf(arg, "valueTwo", UINT64_MAX), "valueTwo");
  TRY_ASSIGN(std::string op, StringOf(arg, "op"), "op");
  out.set_index(static_cast<uint32_t>(index.value_or(0)));
  out.set_value(value.value_or(0));
  out.set_value_two(value_two.value_or(0));
  out.set_op(op);
  return out;
}

Result<api::LinuxSyscall> SyscallFromOci(const Json& rule) {
  if (!rule.is_object()) return Error::Msg("not an object");
  api::LinuxSyscall out;
  TRY_ASSIGN(auto names, StringsOf(rule, "names"), "names");
  for (auto& n : names) out.add_names(std::move(n));
  TRY_ASSIGN(std::string action, StringOf(rule, "action"), "action");
  out.set_action(action);
  TRY_ASSIGN(auto errno_ret, UnsignedOf(rule, "errnoRet", UINT32_MAX), "errnoRet");
  if (errno_ret) out.mutable_errno_ret()->set_value(static_cast<uint32_t>(*errno_ret));
  if (const Json* args = Field(rule, "args")) {
    if (!args->is_array()) return Error::Msg("args: not an array");
    for (size_t i = 0; i < args->size(); ++i) {
      TRY_ASSIGN(*out.add_args(), ArgFromOci((*args)[i]), "args[" + std::to_string(i) + "]");
    }
  }
  return out;
}

bool HasErrnoRet(const api::LinuxSeccomp& policy) {
  for (const auto& rule : policy.syscalls()) {
    if (rule.has_errno_ret()) return true;
  }
  return false;
}

}  // namespace

RuntimeSeccomp RuntimeSeccompFor(std::string_view version) {
  if (!version.empty() && version[0] == 'v') version.remove_prefix(1);
  unsigned major = 0, minor = 0, patch = 0;
  int used = 0;
  const std::string text(version);
  if (std::sscanf(text.c_str(), "%u.%u.%u%n", &major, &minor, &patch, &used) != 3) return {};
  const bool prerelease = static_cast<size_t>(used) < text.size() && text[used] == '-';
  // A prerelease (or pseudo-version) of X.Y.Z comes before X.Y.Z itself.
  const auto base = std::make_tuple(major, minor, patch);
  const bool safe = base > std::make_tuple(0u, 12u, 0u) || (base == std::make_tuple(0u, 12u, 0u) && !prerelease);
  return RuntimeSeccomp{safe};
}

Json SeccompToOci(const api::LinuxSeccomp& policy) {
  Json out = Json::object();
  PutString(out, "defaultAction", policy.default_action());
  if (policy.has_default_errno()) out["defaultErrnoRet"] = policy.default_errno().value();
  PutStrings(out, "architectures", policy.architectures());
  PutStrings(out, "flags", policy.flags());
  PutString(out, "listenerPath", policy.listener_path());
  PutString(out, "listenerMetadata", policy.listener_metadata());
  if (policy.syscalls_size() == 0) return out;
  Json rules = Json::array();
  for (const auto& rule : policy.syscalls()) {
    Json r = Json::object();
    PutStrings(r, "names", rule.names());
    PutString(r, "action", rule.action());
    if (rule.has_errno_ret()) r["errnoRet"] = rule.errno_ret().value();
    if (rule.args_size() > 0) {
      Json args = Json::array();
      for (const auto& arg : rule.args()) {
        Json a = {{"index", arg.index()}, {"value", arg.value()}};
        if (arg.value_two() != 0) a["valueTwo"] = arg.value_two();
        PutString(a, "op", arg.op());
        args.push_back(std::move(a));
      }
      r["args"] = std::move(args);
    }
    rules.push_back(std::move(r));
  }
  out["syscalls"] = std::move(rules);
  return out;
}

Result<api::LinuxSeccomp> SeccompFromOci(const Json& seccomp) {
  if (!seccomp.is_object()) return Error::Msg("not an object");
  api::LinuxSeccomp out;
  TRY_ASSIGN(std::string default_action, StringOf(seccomp, "defaultAction"), "defaultAction");
  out.set_default_action(default_action);
  TRY_ASSIGN(auto default_errno, UnsignedOf(seccomp, "defaultErrnoRet", UINT32_MAX), "defaultErrnoRet");
  if (default_errno) out.mutable_default_errno()->set_value(static_cast<uint32_t>(*default_errno));
  TRY_ASSIGN(auto architectures, StringsOf(seccomp, "architectures"), "architectures");
  for (auto& a : architectures) out.add_architectures(std::move(a));
  TRY_ASSIGN(auto flags, StringsOf(seccomp, "flags"), "flags");
  for (auto& f : flags) out.add_flags(std::move(f));
  TRY_ASSIGN(std::string listener_path, StringOf(seccomp, "listenerPath"), "listenerPath");
  out.set_listener_path(listener_path);
  TRY_ASSIGN(std::string listener_metadata, StringOf(seccomp, "listenerMetadata"), "listenerMetadata");
  out.set_listener_metadata(listener_metadata);
  if (const Json* rules = Field(seccomp, "syscalls")) {
    if (!rules->is_array()) return Error::Msg("syscalls: not an array");
    for (size_t i = 0; i < rules->size(); ++i) {
      TRY_ASSIGN(*out.add_syscalls(), SyscallFromOci((*rules)[i]), "syscalls[" + std::to_string(i) + "]");
    }
  }
  return out;
}

Result<SysinfoTrap> TrapSysinfo(const api::Container& container, const std::string& listener_path,
                                const std::string& run_dir, const RuntimeSeccomp& runtime) {
  if (!container.linux().has_seccomp_policy()) {
    return SysinfoTrap{std::nullopt, "the runtime sent no seccomp policy (its NRI has none, or the container none)"};
  }
  const api::LinuxSeccomp& policy = container.linux().seccomp_policy();
  // runc's default errno (no defaultErrnoRet) is EPERM: only another one is lost.
  if (policy.has_default_errno() && policy.default_errno().value() != EPERM) {
    return SysinfoTrap{std::nullopt, "the policy's default errno " + std::to_string(policy.default_errno().value()) +
                                         " would be lost (NRI's adjustment does not carry it)"};
  }
  if (!runtime.errno_ret_safe && HasErrnoRet(policy)) {
    return SysinfoTrap{std::nullopt,
                       "the policy has rules with an errno and the runtime's NRI (before v0.12.0) fails on them"};
  }
  // The document AddSysinfoNotify edits: the annotations it reads and the policy.
  Json config = {{"annotations", std::map<std::string, std::string>(container.annotations().begin(),
                                                                    container.annotations().end())},
                 {"linux", {{"seccomp", SeccompToOci(policy)}}}};
  TRY_ASSIGN(SysinfoConfig edited, AddSysinfoNotify(config.dump(), listener_path, run_dir), "seccomp policy");
  switch (edited.edit) {
    case SysinfoEdit::kDisabled:
      return SysinfoTrap{std::nullopt, "io.prochook.disable or io.prochook.sysinfo=off"};
    case SysinfoEdit::kDeclined:
      return SysinfoTrap{std::nullopt, edited.reason};
    case SysinfoEdit::kAdded:
      break;
  }
  Json trapped = Json::parse(edited.text, nullptr, /*allow_exceptions=*/false);
  if (trapped.is_discarded()) return Error::Msg("seccomp policy: the edit is not JSON");
  TRY_ASSIGN(api::LinuxSeccomp out, SeccompFromOci(trapped["linux"]["seccomp"]), "the trapped seccomp policy");
  return SysinfoTrap{std::move(out), ""};
}

}  // namespace prochook::nri
