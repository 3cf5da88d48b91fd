#include "oci/timens_plan.h"

#include <algorithm>

#include "common/text.h"

namespace prochook {
namespace {

// "/proc/<pid>/ns/pid" -> pid.
std::optional<pid_t> ProcessOfPidNamespace(const std::string& path) {
  static constexpr std::string_view kPrefix = "/proc/";
  static constexpr std::string_view kSuffix = "/ns/pid";
  const std::string_view p(path);
  if (p.size() <= kPrefix.size() + kSuffix.size() || p.substr(0, kPrefix.size()) != kPrefix ||
      p.substr(p.size() - kSuffix.size()) != kSuffix) {
    return std::nullopt;
  }
  auto pid = ParseU64(p.substr(kPrefix.size(), p.size() - kPrefix.size() - kSuffix.size()));
  if (!pid || *pid == 0 || *pid > 0x3fffffff) return std::nullopt;
  return static_cast<pid_t>(*pid);
}

}  // namespace

TimeNamespacePlan PlanTimeNamespace(const OciConfig& config, const Options& options) {
  using Kind = TimeNamespacePlan::Kind;
  if (options.disabled) return {Kind::kNone, 0, std::string(kAnnotationDisable) + " is set"};
  if (!options.timens) return {Kind::kNone, 0, std::string(kAnnotationTimens) + "=off"};
  const auto& ns = config.namespaces;
  auto of = [&](const char* type) {
    return std::find_if(ns.begin(), ns.end(), [&](const OciNamespace& n) { return n.type == type; });
  };
  if (of("time") != ns.end()) return {Kind::kNone, 0, "its config asks for a time namespace itself"};
  auto pid = of("pid");
  if (pid == ns.end()) {
    return {Kind::kNone, 0, "it shares the host's pid namespace (ps would mix two clocks)"};
  }
  if (!pid->path) return {Kind::kNew, 0, "it has a pid namespace of its own"};
  if (auto owner = ProcessOfPidNamespace(*pid->path)) {
    return {Kind::kJoin, *owner, "it shares the pid namespace of process " + std::to_string(*owner)};
  }
  return {Kind::kNone, 0, "it joins the pid namespace " + *pid->path + ", which names no process"};
}

}  // namespace prochook
