#include "renderer/stat.h"

#include <algorithm>

#include "common/text.h"

namespace prochook {
namespace {

constexpr uint64_t kNsPerTick = 1'000'000'000 / kUserHz;

// "cpu3 1 2 3 ..." -> {3, columns}; nullopt for the aggregate "cpu " line
// and anything malformed.
std::optional<std::pair<int, StatColumns>> ParseCpuLine(const std::vector<std::string_view>& f) {
  auto cpu = ParseU64(f[0].substr(3));
  if (f.size() < 2 || !cpu || *cpu > 65535) return std::nullopt;
  StatColumns cols{};
  for (size_t i = 1; i < f.size() && i <= cols.size(); ++i) {
    auto v = ParseU64(f[i]);
    if (!v) return std::nullopt;
    cols[i - 1] = *v;
  }
  return std::make_pair(static_cast<int>(*cpu), cols);
}

// user and system ticks of each container CPU from the cgroup's usage.
std::vector<StatColumns> Busy(const CpuUsage& usage, const CpuView& view) {
  const size_t n = view.visible.size();
  std::vector<StatColumns> out(n, StatColumns{});
  if (n == 0) return out;
  if (usage.per_cpu) {
    std::vector<CpuTime> ns(n);
    for (size_t k = 0; k < view.allowed.size(); ++k) {
      auto it = usage.by_host_cpu.find(view.allowed[k]);
      if (it == usage.by_host_cpu.end()) continue;
      CpuTime& t = ns[k % n];
      t.user_ns = SatAdd(t.user_ns, it->second.user_ns);
      t.system_ns = SatAdd(t.system_ns, it->second.system_ns);
    }
    for (size_t i = 0; i < n; ++i) {
      out[i][kStatUser] = ns[i].user_ns / kNsPerTick;
      out[i][kStatSystem] = ns[i].system_ns / kNsPerTick;
    }
    return out;
  }
  const uint64_t user = usage.user_ns / kNsPerTick;
  const uint64_t system = usage.system_ns / kNsPerTick;
  for (size_t i = 0; i < n; ++i) {
    out[i][kStatUser] = user / n + (i < user % n ? 1 : 0);
    out[i][kStatSystem] = system / n + (i < system % n ? 1 : 0);
  }
  return out;
}

void AppendColumns(std::string& out, std::string_view label, const StatColumns& cols) {
  out += label;
  for (uint64_t v : cols) {
    out += ' ';
    out += std::to_string(v);
  }
  out += '\n';
}

void AppendValue(std::string& out, std::string_view key, std::optional<uint64_t> v) {
  if (!v) return;
  out += key;
  out += ' ';
  out += std::to_string(*v);
  out += '\n';
}

}  // namespace

HostStat ParseHostStat(std::string_view text) {
  HostStat s;
  for (std::string_view line : SplitLines(text)) {
    auto f = SplitFields(line);
    if (f.empty()) continue;
    std::string_view key = f[0];
    if (key.size() > 3 && key.substr(0, 3) == "cpu") {
      if (auto cpu = ParseCpuLine(f)) s.cpus[cpu->first] = cpu->second;
    } else if (key == "intr") {
      s.intr = std::string(line);
    } else if (key == "softirq") {
      s.softirq = std::string(line);
    } else if (f.size() == 2) {
      auto v = ParseU64(f[1]);
      if (key == "ctxt") s.ctxt = v;
      if (key == "btime") s.btime = v;
      if (key == "processes") s.processes = v;
      if (key == "procs_running") s.procs_running = v;
      if (key == "procs_blocked") s.procs_blocked = v;
    }
  }
  return s;
}

uint64_t StatState::idle_ticks() const {
  uint64_t sum = 0;
  for (const auto& cols : last_) {
    if (cols) sum = SatAdd(sum, (*cols)[kStatIdle]);
  }
  return sum;
}

void StatState::Seed(const HostStat& previous) {
  // The container's CPUs are numbered 0..N-1 in what we emitted.
  last_.clear();
  for (const auto& [cpu, cols] : previous.cpus) {
    if (cpu < 0 || cpu != static_cast<int>(last_.size())) break;
    last_.push_back(cols);
  }
}

std::string RenderStat(const StatInput& in, StatState& state) {
  const size_t n = in.view.visible.size();
  std::vector<std::optional<StatColumns>> now(n);
  if (in.usage) {
    std::vector<StatColumns> busy = Busy(*in.usage, in.view);
    for (size_t i = 0; i < n; ++i) {
      StatColumns& c = busy[i];
      c[kStatIdle] = SatSub(in.elapsed_ticks, SatAdd(c[kStatUser], c[kStatSystem]));
      now[i] = c;
    }
  } else {
    // A visible CPU the host no longer lists (just offlined) gets no line,
    // as the kernel omits offline CPUs; the others keep their numbers.
    for (size_t i = 0; i < n; ++i) {
      auto it = in.host.cpus.find(in.view.visible[i]);
      if (it != in.host.cpus.end()) now[i] = it->second;
    }
  }

  state.last_.resize(n);
  StatColumns total{};
  std::string per_cpu;
  for (size_t i = 0; i < n; ++i) {
    if (!now[i]) continue;
    StatColumns& c = *now[i];
    if (const auto& last = state.last_[i]) {
      for (size_t k = 0; k < c.size(); ++k) c[k] = std::max(c[k], (*last)[k]);
    }
    state.last_[i] = c;
    for (size_t k = 0; k < c.size(); ++k) total[k] = SatAdd(total[k], c[k]);
    AppendColumns(per_cpu, "cpu" + std::to_string(i), c);
  }

  std::string out;
  AppendColumns(out, "cpu ", total);  // "cpu  <user> ...": two spaces, as the kernel
  out += per_cpu;
  if (!in.host.intr.empty()) out += in.host.intr + "\n";
  AppendValue(out, "ctxt", in.host.ctxt);
  AppendValue(out, "btime", in.btime);
  AppendValue(out, "processes", in.host.processes);
  AppendValue(out, "procs_running",
              in.procs_running ? std::optional<uint64_t>(*in.procs_running) : in.host.procs_running);
  AppendValue(out, "procs_blocked",
              in.procs_blocked ? std::optional<uint64_t>(*in.procs_blocked) : in.host.procs_blocked);
  if (!in.host.softirq.empty()) out += in.host.softirq + "\n";
  return out;
}

}  // namespace prochook
