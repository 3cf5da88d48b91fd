#include "renderer/cpu_view.h"

#include <algorithm>
#include <cmath>
#include <iterator>

#include "common/io.h"
#include "common/text.h"

namespace prochook {
namespace {

constexpr uint64_t kMaxCpu = 65535;

std::optional<double> Min(std::optional<double> a, std::optional<double> b) {
  if (!a) return b;
  if (!b) return a;
  return std::min(*a, *b);
}

// A non-empty, well-formed CPU list in `file` of dir; nullopt otherwise.
std::optional<std::vector<int>> ReadCpuList(const std::string& dir, const char* file, FileReader& reader) {
  auto text = reader.Read(dir + "/" + file);
  if (!text) return std::nullopt;
  auto cpus = ParseCpuList(*text);
  if (!cpus || cpus->empty()) return std::nullopt;
  return std::move(cpus.value());
}

// The nearest ancestor's list: on v2 a cgroup without the cpuset controller
// enabled has no cpuset files and runs on its parent's CPUs.
std::vector<int> ReadCpuset(const CgroupDir& cg, FileReader& reader) {
  if (!cg.present()) return {};
  for (const std::string& dir : Ancestors(cg)) {
    if (cg.version == 2) {
      if (auto cpus = ReadCpuList(dir, "cpuset.cpus.effective", reader)) return *cpus;
    } else {
      // effective_cpus only exists since Linux 4.x; before, cpuset.cpus is it.
      if (auto cpus = ReadCpuList(dir, "cpuset.effective_cpus", reader)) return *cpus;
      if (auto cpus = ReadCpuList(dir, "cpuset.cpus", reader)) return *cpus;
    }
  }
  return {};
}

std::optional<double> Ratio(std::string_view quota, std::string_view period) {
  auto q = ParseU64(quota);
  auto p = ParseU64(period);
  if (!q || !p || *p == 0) return std::nullopt;
  return static_cast<double>(*q) / static_cast<double>(*p);
}

std::optional<double> ReadQuotaV2(const std::string& dir, FileReader& reader) {
  auto text = reader.Read(dir + "/cpu.max");
  return text ? ParseCpuMax(*text) : std::nullopt;
}

// v1 cpu.cfs_quota_us ("-1" = no limit) over cpu.cfs_period_us.
std::optional<double> ReadQuotaV1(const std::string& dir, FileReader& reader) {
  auto quota = reader.Read(dir + "/cpu.cfs_quota_us");
  auto period = reader.Read(dir + "/cpu.cfs_period_us");
  if (!quota || !period) return std::nullopt;
  return Ratio(Trim(*quota), Trim(*period));  // "-1" is not a number: no limit
}

std::optional<double> ReadQuota(const CgroupDir& cg, FileReader& reader) {
  std::optional<double> quota;
  if (!cg.present()) return quota;
  for (const std::string& dir : Ancestors(cg)) {
    quota = Min(quota, cg.version == 2 ? ReadQuotaV2(dir, reader) : ReadQuotaV1(dir, reader));
  }
  return quota;
}

}  // namespace

std::optional<double> ParseCpuMax(std::string_view text) {
  auto f = SplitFields(Trim(text));
  if (f.size() != 2) return std::nullopt;
  return Ratio(f[0], f[1]);  // "max" is not a number: no limit
}

Result<std::vector<int>> ParseCpuList(std::string_view text) {
  std::vector<int> cpus;
  text = Trim(text);
  if (text.empty()) return cpus;
  for (std::string_view item : Split(text, ',')) {
    auto bounds = Split(item, '-');
    auto lo = ParseU64(bounds[0]);
    auto hi = bounds.size() == 2 ? ParseU64(bounds[1]) : lo;
    if (bounds.size() > 2 || !lo || !hi || *lo > *hi || *hi > kMaxCpu) {
      return Error::Msg("bad CPU list item \"" + std::string(item) + "\"");
    }
    for (uint64_t c = *lo; c <= *hi; ++c) cpus.push_back(static_cast<int>(c));
  }
  std::sort(cpus.begin(), cpus.end());
  cpus.erase(std::unique(cpus.begin(), cpus.end()), cpus.end());
  return cpus;
}

std::string FormatCpuList(const std::vector<int>& cpus) {
  std::vector<int> sorted = cpus;
  std::sort(sorted.begin(), sorted.end());
  sorted.erase(std::unique(sorted.begin(), sorted.end()), sorted.end());
  std::string out;
  for (size_t i = 0; i < sorted.size();) {
    size_t j = i;
    while (j + 1 < sorted.size() && sorted[j + 1] == sorted[j] + 1) ++j;
    if (!out.empty()) out += ',';
    out += std::to_string(sorted[i]);
    if (j > i) out += '-' + std::to_string(sorted[j]);  // "0-1" too, like %*pbl
    i = j + 1;
  }
  return out;
}

CpuView ComputeCpuView(const CpuLimits& limits, const std::vector<int>& online, CpuViewMode mode) {
  std::vector<int> on = online;
  std::sort(on.begin(), on.end());
  on.erase(std::unique(on.begin(), on.end()), on.end());

  CpuView view;
  std::set_intersection(limits.cpuset.begin(), limits.cpuset.end(), on.begin(), on.end(),
                        std::back_inserter(view.allowed));
  // An unknown cpuset, or one naming no online CPU (stale or hotplugged),
  // must not leave the container with zero CPUs.
  if (view.allowed.empty()) view.allowed = on;

  view.visible = view.allowed;
  if (mode == CpuViewMode::kCpusetAndQuota && limits.quota) {
    // The epsilon keeps 2.0 (200000/100000) at 2 despite rounding.
    double n = std::max(1.0, std::ceil(*limits.quota - 1e-9));
    if (n < static_cast<double>(view.visible.size())) view.visible.resize(static_cast<size_t>(n));
  }
  return view;
}

CpuLimits ReadCpuLimits(const CgroupDir& cpuset, const CgroupDir& cpu, FileReader& reader) {
  return CpuLimits{ReadCpuset(cpuset, reader), ReadQuota(cpu, reader)};
}

}  // namespace prochook
