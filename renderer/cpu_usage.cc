#include "renderer/cpu_usage.h"

#include "common/io.h"
#include "common/text.h"
#include "renderer/memory.h"

namespace prochook {
namespace {

Result<CpuUsage> WithTotals(std::map<int, CpuTime> by_cpu) {
  if (by_cpu.empty()) return Error::Msg("no CPUs listed");
  CpuUsage u;
  u.per_cpu = true;
  for (const auto& [cpu, t] : by_cpu) {
    u.user_ns = SatAdd(u.user_ns, t.user_ns);
    u.system_ns = SatAdd(u.system_ns, t.system_ns);
  }
  u.by_host_cpu = std::move(by_cpu);
  return u;
}

Result<std::vector<uint64_t>> ReadPerCpu(const std::string& path, FileReader& reader) {
  TRY_ASSIGN(std::string text, reader.Read(path), path);
  TRY_ASSIGN(auto values, ParseCpuacctPerCpu(text), path);
  return values;
}

// The v1 files from the most to the least detailed; the first readable wins.
Result<CpuUsage> ReadV1(const std::string& dir, FileReader& reader) {
  if (auto text = reader.Read(dir + "/cpuacct.usage_all")) {
    if (auto u = ParseCpuacctUsageAll(*text)) return u;
  }
  auto user = ReadPerCpu(dir + "/cpuacct.usage_percpu_user", reader);
  auto sys = ReadPerCpu(dir + "/cpuacct.usage_percpu_sys", reader);
  if (user && sys) {
    if (auto u = CpuUsageFromLists(*user, *sys)) return u;
  }
  // Kernels before 4.7 split nothing: all of it is shown as user time.
  TRY_ASSIGN(auto all, ReadPerCpu(dir + "/cpuacct.usage_percpu", reader), "no cpuacct usage file");
  return CpuUsageFromLists(all, {});
}

}  // namespace

Result<CpuUsage> ParseCpuacctUsageAll(std::string_view text) {
  auto lines = SplitLines(text);
  if (lines.empty() || SplitFields(lines[0]) != std::vector<std::string_view>{"cpu", "user", "system"}) {
    return Error::Msg("cpuacct.usage_all: no \"cpu user system\" header");
  }
  std::map<int, CpuTime> by_cpu;
  for (size_t i = 1; i < lines.size(); ++i) {
    auto f = SplitFields(lines[i]);
    if (f.empty()) continue;
    std::optional<uint64_t> cpu, user, sys;
    if (f.size() == 3) {
      cpu = ParseU64(f[0]);
      user = ParseU64(f[1]);
      sys = ParseU64(f[2]);
    }
    if (!cpu || !user || !sys || *cpu > 65535) {
      return Error::Msg("cpuacct.usage_all: bad line \"" + std::string(lines[i]) + "\"");
    }
    by_cpu[static_cast<int>(*cpu)] = CpuTime{*user, *sys};
  }
  return WithTotals(std::move(by_cpu));
}

Result<std::vector<uint64_t>> ParseCpuacctPerCpu(std::string_view text) {
  std::vector<uint64_t> out;
  for (std::string_view f : SplitFields(Trim(text))) {
    auto v = ParseU64(f);
    if (!v) return Error::Msg("per-CPU usage: \"" + std::string(f) + "\" is not a number");
    out.push_back(*v);
  }
  return out;
}

Result<CpuUsage> CpuUsageFromLists(const std::vector<uint64_t>& user,
                                   const std::vector<uint64_t>& system) {
  if (!system.empty() && system.size() != user.size()) {
    return Error::Msg("per-CPU user and system lists differ in length");
  }
  std::map<int, CpuTime> by_cpu;
  for (size_t i = 0; i < user.size(); ++i) {
    by_cpu[static_cast<int>(i)] = CpuTime{user[i], system.empty() ? 0 : system[i]};
  }
  return WithTotals(std::move(by_cpu));
}

Result<CpuUsage> ParseCpuStat(std::string_view text) {
  auto kv = ParseFlatKeyed(text);
  auto user = kv.find("user_usec");
  auto sys = kv.find("system_usec");
  if (user == kv.end() || sys == kv.end()) {
    return Error::Msg("cpu.stat: no user_usec/system_usec");
  }
  CpuUsage u;
  u.user_ns = user->second * 1000;
  u.system_ns = sys->second * 1000;
  return u;
}

Result<CpuUsage> ReadCpuUsage(const CgroupDir& cg, FileReader& reader) {
  if (cg.version == 1) {
    TRY_ASSIGN(CpuUsage u, ReadV1(cg.dir, reader), "cpuacct cgroup " + cg.dir);
    return u;
  }
  if (cg.version == 2) {
    TRY_ASSIGN(std::string text, reader.Read(cg.dir + "/cpu.stat"), "cpu cgroup " + cg.dir);
    TRY_ASSIGN(CpuUsage u, ParseCpuStat(text), "cpu cgroup " + cg.dir);
    return u;
  }
  return Error::Msg("no cpu accounting cgroup");
}

}  // namespace prochook
