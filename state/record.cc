#include "state/record.h"

#include "common/io.h"
#include "common/text.h"
#include "oci/json.h"

namespace prochook {

std::string SerializeRecord(const ContainerRecord& r) {
  nlohmann::json j;
  j["id"] = r.id;
  j["pid"] = r.pid;
  j["pid_start"] = r.pid_start;
  j["rootfs"] = r.rootfs;
  j["interval_ms"] = r.interval_ms;
  j["idle_ms"] = r.idle_ms;
  j["fresh_reads"] = r.fresh_reads;
  j["files"] = r.files;
  j["cpu_view_quota"] = r.cpu_view_quota;
  j["show_swap"] = r.show_swap;
  j["container_uptime"] = r.container_uptime;
  j["clock_offset_s"] = r.clock_offset_s;
  nlohmann::json cg = nlohmann::json::object();
  for (const auto& [name, d] : r.cgroups) {
    if (d.present()) cg[name] = {{"version", d.version}, {"dir", d.dir}, {"mount", d.mount}};
  }
  j["cgroups"] = cg;
  return j.dump(2) + "\n";
}

namespace {

// An integer field in [lo, hi]. nlohmann's get<int>() of a number that does
// not fit (or of a float) is undefined behaviour, so check first.
Result<int64_t> IntIn(const nlohmann::json& j, const char* key, int64_t lo, int64_t hi) {
  TRY_ASSIGN(std::optional<int64_t> v, IntField(j, key), "state.json");
  if (!v) return Error::Msg(std::string("state.json: missing \"") + key + "\"");
  if (*v < lo || *v > hi) return Error::Msg(std::string("state.json: \"") + key + "\" is out of range");
  return *v;
}

}  // namespace

Result<ContainerRecord> ParseRecord(std::string_view text) {
  TRY_ASSIGN(nlohmann::json j, ParseJsonObject(text, "state.json"), "state.json");
  // Written by prochook itself; a mismatch means a corrupt or foreign file.
  ContainerRecord r;
  TRY_ASSIGN(int64_t pid, IntIn(j, "pid", 1, INT32_MAX), "state.json");
  TRY_ASSIGN(int64_t pid_start, IntIn(j, "pid_start", 0, INT64_MAX), "state.json");
  TRY_ASSIGN(r.interval_ms, IntIn(j, "interval_ms", 10, 3600 * 1000), "state.json");
  if (j.contains("idle_ms")) {  // absent in the state of earlier versions
    TRY_ASSIGN(r.idle_ms, IntIn(j, "idle_ms", 0, 3600 * 1000), "state.json");
  }
  if (j.contains("clock_offset_s")) {  // absent in the state of earlier versions
    TRY_ASSIGN(r.clock_offset_s, IntIn(j, "clock_offset_s", -(int64_t{1} << 40), int64_t{1} << 40), "state.json");
  }
  r.pid = static_cast<pid_t>(pid);
  r.pid_start = static_cast<uint64_t>(pid_start);
  try {
    r.id = j.at("id").get<std::string>();
    r.rootfs = j.at("rootfs").get<std::string>();
    r.files = j.at("files").get<std::vector<std::string>>();
    r.cpu_view_quota = j.at("cpu_view_quota").get<bool>();
    r.show_swap = j.at("show_swap").get<bool>();
    r.container_uptime = j.at("container_uptime").get<bool>();
    r.fresh_reads = j.value("fresh_reads", true);  // absent in the state of earlier versions
    for (const auto& [name, d] : j.at("cgroups").items()) {
      TRY_ASSIGN(int64_t version, IntIn(d, "version", 1, 2), "state.json: cgroups." + name);
      r.cgroups[name] = {static_cast<int>(version), d.at("dir").get<std::string>(),
                         d.at("mount").get<std::string>()};
    }
  } catch (const nlohmann::json::exception& e) {
    return Error::Msg(std::string("state.json: ") + e.what());
  }
  return r;
}

Result<> ValidateContainerId(std::string_view id) {
  if (id.empty() || id.size() > 1024) return Error::Msg("container id is empty or too long");
  if (id == "." || id == "..") return Error::Msg("container id \"" + std::string(id) + "\"");
  for (char c : id) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_' || c == '.' || c == '+';
    if (!ok) return Error::Msg("container id has a character other than [A-Za-z0-9._+-]");
  }
  return Ok{};
}

}  // namespace prochook
