#include "hook/cgroups.h"

#include <algorithm>
#include <charconv>

#include "common/io.h"
#include "common/text.h"

namespace prochook {
namespace {

bool Contains(const std::vector<std::string>& v, std::string_view s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

// The path of a cgroup below a mount of its hierarchy whose root is `root`;
// empty when the cgroup is not inside that mount.
std::string PathBelow(const std::string& cgroup_path, const MountInfo& m) {
  if (cgroup_path.find("/..") != std::string::npos) return "";  // outside our cgroupns
  if (m.root == "/") return m.mount_point + (cgroup_path == "/" ? "" : cgroup_path);
  if (cgroup_path == m.root) return m.mount_point;
  if (cgroup_path.size() > m.root.size() && cgroup_path.compare(0, m.root.size(), m.root) == 0 &&
      cgroup_path[m.root.size()] == '/') {
    return m.mount_point + cgroup_path.substr(m.root.size());
  }
  return "";
}

// v2 names for the controllers prochook reads.
std::string V2Name(const std::string& controller) {
  if (controller == "cpuacct") return "cpu";
  if (controller == "blkio") return "io";
  return controller;
}

}  // namespace

std::vector<ProcCgroupEntry> ParseProcCgroup(std::string_view text) {
  std::vector<ProcCgroupEntry> out;
  for (std::string_view line : SplitLines(text)) {
    // The path may itself contain ':'; split on the first two only.
    size_t a = line.find(':');
    if (a == std::string_view::npos) continue;
    size_t b = line.find(':', a + 1);
    if (b == std::string_view::npos) continue;
    ProcCgroupEntry e;
    std::string_view id = line.substr(0, a);
    auto [p, ec] = std::from_chars(id.data(), id.data() + id.size(), e.hierarchy);
    if (ec != std::errc() || p != id.data() + id.size()) continue;
    e.controllers = SplitToStrings(line.substr(a + 1, b - a - 1), ',');
    e.path = std::string(line.substr(b + 1));
    if (e.path.empty() || e.path.front() != '/') continue;
    out.push_back(std::move(e));
  }
  return out;
}

std::map<std::string, CgroupDir> LocateCgroups(const std::vector<ProcCgroupEntry>& entries,
                                               const std::vector<MountInfo>& mounts,
                                               const std::vector<std::string>& v2_controllers) {
  std::map<std::string, CgroupDir> out;
  for (const std::string& ctrl : KnownControllers()) {
    CgroupDir found;
    // A controller bound to a v1 hierarchy cannot also be on v2.
    for (const auto& e : entries) {
      if (e.hierarchy == 0 || !Contains(e.controllers, ctrl)) continue;
      for (const auto& m : mounts) {
        if (m.fs_type != "cgroup" || !Contains(SplitToStrings(m.super_options, ','), ctrl)) continue;
        std::string dir = PathBelow(e.path, m);
        if (!dir.empty()) {
          found = {1, dir, m.mount_point};
          break;
        }
      }
      break;
    }
    // cpu.stat exists in every v2 cgroup whether or not "cpu" is enabled.
    const bool on_v2 = ctrl == "cpuacct" || Contains(v2_controllers, V2Name(ctrl));
    if (!found.present() && on_v2) {
      for (const auto& e : entries) {
        if (e.hierarchy != 0) continue;
        for (const auto& m : mounts) {
          if (m.fs_type != "cgroup2") continue;
          std::string dir = PathBelow(e.path, m);
          if (!dir.empty()) {
            found = {2, dir, m.mount_point};
            break;
          }
        }
      }
    }
    out[ctrl] = found;
  }
  return out;
}

Result<std::map<std::string, CgroupDir>> LoadCgroups(int pid) {
  TRY_ASSIGN(std::string cg, ReadFile("/proc/" + std::to_string(pid) + "/cgroup"),
             "container cgroups");
  TRY_ASSIGN(std::string mi, ReadFile("/proc/self/mountinfo", 16 << 20), "host mounts");
  std::vector<MountInfo> mounts = ParseMountinfo(mi);
  std::vector<std::string> v2;
  for (const auto& m : mounts) {
    if (m.fs_type != "cgroup2") continue;
    auto controllers = ReadFile(m.mount_point + "/cgroup.controllers");
    if (controllers) v2 = SplitToStrings(Trim(*controllers), ' ');
    break;
  }
  return LocateCgroups(ParseProcCgroup(cg), mounts, v2);
}

}  // namespace prochook
