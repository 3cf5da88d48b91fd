#include "oci/seccomp_edit.h"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "oci/json.h"
#include "oci/options.h"

namespace prochook {
namespace {

using Json = nlohmann::ordered_json;

constexpr char kSysinfo[] = "sysinfo";
constexpr char kAllow[] = "SCMP_ACT_ALLOW";
constexpr char kNotify[] = "SCMP_ACT_NOTIFY";

// Without an architectures list libseccomp filters the native one only and
// runc kills or fails a compat (32-bit) process: list both, as Docker's
// default profile does.
Json HostArchitectures() {
#if defined(__x86_64__)
  return Json::array({"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"});
#elif defined(__aarch64__)
  return Json::array({"SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"});
#else
  return Json::array();
#endif
}

Json NotifyRule() { return Json{{"names", {kSysinfo}}, {"action", kNotify}}; }

bool NamesSysinfo(const Json& rule) {
  auto names = rule.find("names");
  if (names == rule.end() || !names->is_array()) return false;
  return std::find(names->begin(), names->end(), Json(kSysinfo)) != names->end();
}

// A string field, "" when missing or of another type.
std::string StringAt(const Json& obj, const char* key) {
  auto it = obj.find(key);
  return it != obj.end() && it->is_string() ? it->get<std::string>() : "";
}

// An agent socket in one of run_dir's state directories (whatever its
// file name: an earlier version's too).
bool OwnListener(const Json& seccomp, const std::string& run_dir) {
  const std::string path = StringAt(seccomp, "listenerPath");
  const std::string prefix = run_dir + "/";
  if (path.size() <= prefix.size() || path.compare(0, prefix.size(), prefix) != 0) return false;
  const size_t slash = path.find('/', prefix.size());
  return slash != std::string::npos && slash > prefix.size() && slash + 1 < path.size() &&
         path.find('/', slash + 1) == std::string::npos;
}

// Why this profile must be left alone, or "" if sysinfo can be trapped.
std::string DeclineReason(const Json& seccomp, const std::string& run_dir) {
  if (!seccomp.is_object()) return "linux.seccomp is not an object";
  const bool own = OwnListener(seccomp, run_dir);
  if (auto lp = seccomp.find("listenerPath"); lp != seccomp.end() && !lp->is_null() && !own) {
    return "the seccomp profile has a listenerPath of its own";
  }
  auto rules = seccomp.find("syscalls");
  if (rules != seccomp.end() && !rules->is_null() && !rules->is_array()) {
    return "linux.seccomp.syscalls is not an array";
  }
  bool allowed = StringAt(seccomp, "defaultAction") == kAllow || own;
  if (rules != seccomp.end() && rules->is_array()) {
    for (const Json& rule : *rules) {
      if (!rule.is_object() || !NamesSysinfo(rule)) continue;
      const std::string action = StringAt(rule, "action");
      if (own && action == kNotify) continue;  // ours, from an earlier edit
      if (action != kAllow) return "the seccomp profile has a rule for sysinfo with action " + action;
      allowed = true;
    }
  }
  if (!allowed) return "the seccomp profile does not allow sysinfo";
  return "";
}

// Takes sysinfo out of every allow rule (so the notify rule is the only one
// for it) and appends the notify rule.
void TrapSysinfo(Json& seccomp, const std::string& listener_path) {
  Json& rules = seccomp["syscalls"];
  if (rules.is_null()) rules = Json::array();
  Json kept = Json::array();
  for (Json& rule : rules) {
    if (rule.is_object() && NamesSysinfo(rule) && StringAt(rule, "action") == kAllow) {
      Json& names = rule["names"];
      names.erase(std::remove(names.begin(), names.end(), Json(kSysinfo)), names.end());
      if (names.empty()) continue;
    }
    kept.push_back(std::move(rule));
  }
  const bool trapped = std::any_of(kept.begin(), kept.end(), [](const Json& rule) {
    return rule.is_object() && NamesSysinfo(rule) && StringAt(rule, "action") == kNotify;
  });
  if (!trapped) kept.push_back(NotifyRule());
  rules = std::move(kept);
  seccomp["listenerPath"] = listener_path;
}

}  // namespace

Result<SysinfoConfig> AddSysinfoNotify(std::string_view config_json, const std::string& listener_path,
                                       const std::string& run_dir) {
  TRY_ASSIGN(nlohmann::json checked, ParseJsonObject(config_json, "config.json"), "config.json");
  TRY_ASSIGN(auto annotations, StringMapField(checked, "annotations"), "config.json");
  const Options options = ParseOptions(annotations);
  if (options.disabled || !options.sysinfo) return SysinfoConfig{SysinfoEdit::kDisabled, "", ""};

  Json config = Json::parse(config_json, nullptr, /*allow_exceptions=*/false);
  if (config.contains("linux") && !config["linux"].is_object()) {
    return Error::Msg("config.json: \"linux\" is not an object");
  }
  Json& lx = config["linux"];
  if (!lx.contains("seccomp") || lx["seccomp"].is_null()) {
    lx["seccomp"] = Json{{"defaultAction", kAllow},
                            {"architectures", HostArchitectures()},
                            {"listenerPath", listener_path},
                            {"syscalls", {NotifyRule()}}};
    return SysinfoConfig{SysinfoEdit::kAdded, config.dump(), ""};
  }
  Json& seccomp = lx["seccomp"];
  if (std::string reason = DeclineReason(seccomp, run_dir); !reason.empty()) {
    return SysinfoConfig{SysinfoEdit::kDeclined, "", reason};
  }
  TrapSysinfo(seccomp, listener_path);
  return SysinfoConfig{SysinfoEdit::kAdded, config.dump(), ""};
}

Result<std::optional<std::string>> RemoveSysinfoNotify(std::string_view config_json, const std::string& run_dir) {
  TRY(ParseJsonObject(config_json, "config.json"), "config.json");
  Json config = Json::parse(config_json, nullptr, /*allow_exceptions=*/false);
  auto lx = config.find("linux");
  if (lx == config.end() || !lx->is_object()) return std::optional<std::string>();
  auto seccomp = lx->find("seccomp");
  if (seccomp == lx->end() || !seccomp->is_object() || !OwnListener(*seccomp, run_dir)) return std::optional<std::string>();
  seccomp->erase("listenerPath");
  if (auto rules = seccomp->find("syscalls"); rules != seccomp->end() && rules->is_array()) {
    for (Json& rule : *rules) {
      if (rule.is_object() && NamesSysinfo(rule) && StringAt(rule, "action") == kNotify) rule["action"] = kAllow;
    }
  }
  return std::optional<std::string>(config.dump());
}

}  // namespace prochook
