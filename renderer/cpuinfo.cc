#include "renderer/cpuinfo.h"

#include <climits>
#include <map>
#include <set>
#include <utility>

#include "common/text.h"

namespace prochook {
namespace {

// "cpu cores\t: 4" -> "cpu cores"; "CPU architecture: 8" -> "CPU architecture";
// a line without ':' has no key.
std::string_view Key(std::string_view line) {
  size_t colon = line.find(':');
  return colon == std::string_view::npos ? std::string_view() : Trim(line.substr(0, colon));
}

std::optional<std::string_view> Field(const CpuinfoBlock& block, std::string_view key) {
  for (const std::string& line : block.lines) {
    if (Key(line) == key) return Trim(std::string_view(line).substr(line.find(':') + 1));
  }
  return std::nullopt;
}

// Replaces the value and keeps the key, tabs and ": " exactly.
std::string WithValue(const std::string& line, const std::string& value) {
  size_t pos = line.find(':') + 1;
  while (pos < line.size() && (line[pos] == ' ' || line[pos] == '\t')) ++pos;
  return line.substr(0, pos) + value;
}

std::string Join(const std::vector<std::string>& lines) {
  std::string out;
  for (const std::string& line : lines) out += line + '\n';
  return out;
}

// Per "physical id", over the visible CPUs only.
struct Package {
  int siblings = 0;
  std::set<std::string_view> cores;  // distinct "core id" values
};

std::string RenderCpu(const CpuinfoBlock& block, int number,
                      const std::map<std::string_view, Package>& packages) {
  const Package* package = nullptr;
  if (auto phys = Field(block, "physical id")) package = &packages.at(*phys);
  std::vector<std::string> lines;
  for (const std::string& line : block.lines) {
    std::string_view key = Key(line);
    if (key == "processor") {
      lines.push_back(WithValue(line, std::to_string(number)));
    } else if (package && key == "siblings") {
      lines.push_back(WithValue(line, std::to_string(package->siblings)));
    } else if (package && key == "cpu cores" && !package->cores.empty()) {
      lines.push_back(WithValue(line, std::to_string(package->cores.size())));
    } else {
      lines.push_back(line);
    }
  }
  return Join(lines);
}

}  // namespace

Cpuinfo ParseCpuinfo(std::string_view host) {
  Cpuinfo out;
  CpuinfoBlock block;
  auto flush = [&] {
    if (!block.lines.empty()) out.blocks.push_back(std::move(block));
    block = CpuinfoBlock();
  };
  const auto lines = SplitLines(host);
  for (std::string_view line : lines) {
    if (Trim(line).empty()) {
      flush();
      continue;
    }
    if (!block.processor && Key(line) == "processor") {
      auto n = ParseU64(Trim(line.substr(line.find(':') + 1)));
      if (n && *n <= INT_MAX) block.processor = static_cast<int>(*n);
    }
    block.lines.emplace_back(line);
  }
  flush();
  out.ends_with_blank = !lines.empty() && Trim(lines.back()).empty();
  return out;
}

std::string RenderCpuinfo(const Cpuinfo& host, const CpuView& view) {
  std::map<int, const CpuinfoBlock*> by_cpu;
  for (const CpuinfoBlock& b : host.blocks) {
    if (b.processor) by_cpu.emplace(*b.processor, &b);
  }
  // (container CPU number, host block) in view order.
  std::vector<std::pair<int, const CpuinfoBlock*>> cpus;
  for (size_t i = 0; i < view.visible.size(); ++i) {
    if (auto it = by_cpu.find(view.visible[i]); it != by_cpu.end()) {
      cpus.emplace_back(static_cast<int>(i), it->second);
    }
  }
  std::map<std::string_view, Package> packages;
  for (const auto& [number, block] : cpus) {
    auto phys = Field(*block, "physical id");
    if (!phys) continue;
    Package& p = packages[*phys];
    ++p.siblings;
    if (auto core = Field(*block, "core id")) p.cores.insert(*core);
  }

  std::vector<std::string> parts;
  size_t first_cpu = 0;
  while (first_cpu < host.blocks.size() && !host.blocks[first_cpu].processor) {
    parts.push_back(Join(host.blocks[first_cpu++].lines));
  }
  for (const auto& [number, block] : cpus) parts.push_back(RenderCpu(*block, number, packages));
  for (size_t i = first_cpu; i < host.blocks.size(); ++i) {
    if (!host.blocks[i].processor) parts.push_back(Join(host.blocks[i].lines));
  }

  size_t size = parts.size() + 1;
  for (const std::string& part : parts) size += part.size();
  std::string out;
  out.reserve(size);  // one allocation: cpuinfo is ~600 bytes per CPU
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i > 0) out += '\n';
    out += parts[i];
  }
  if (host.ends_with_blank && !parts.empty()) out += '\n';
  return out;
}

}  // namespace prochook
