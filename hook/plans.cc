#include "hook/plans.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <iterator>
#include <set>

#include "common/fd.h"
#include "hook/block_plans.h"

namespace prochook {
namespace {

bool IsCpuEntry(const std::string& name) {
  return name.size() > 3 && name.compare(0, 3, "cpu") == 0 &&
         std::all_of(name.begin() + 3, name.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// An empty file or directory to mount the original entry on.
Result<> MakePlaceholder(int dir_fd, const std::string& name, bool directory) {
  if (directory) {
    if (::mkdirat(dir_fd, name.c_str(), 0555) != 0 && errno != EEXIST) {
      return Error::Sys("mkdir " + name);
    }
    return Ok{};
  }
  UniqueFd f(::openat(dir_fd, name.c_str(), O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0444));
  if (!f.valid()) return Error::Sys("create " + name);
  return Ok{};
}

Result<MountPlan> PlanSysCpu(const std::string& state_dir, const std::set<std::string>& rendered,
                             const CpuView& view, const std::string& host_cpu_dir) {
  const std::string dir = state_dir + "/" + kSysCpuDir;
  UniqueFd dir_fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!dir_fd.valid()) return Error::Sys("open " + dir);
  MountPlan plan{dir, "sys/devices/system/cpu", SYSFS_MAGIC, true};
  for (size_t i = 0; i < view.visible.size(); ++i) {
    const std::string to = "cpu" + std::to_string(i);
    TRY(MakePlaceholder(dir_fd.get(), to, true), dir);
    plan.keep.push_back({"cpu" + std::to_string(view.visible[i]), to});
  }
  DIR* d = ::opendir(host_cpu_dir.c_str());
  if (d == nullptr) return Error::Sys("opendir " + host_cpu_dir);
  std::vector<std::pair<std::string, bool>> others;
  while (struct dirent* e = ::readdir(d)) {
    std::string name = e->d_name;
    if (name == "." || name == ".." || IsCpuEntry(name)) continue;
    if (rendered.count(std::string(kSysCpuDir) + "/" + name)) continue;
    others.push_back({name, e->d_type == DT_DIR});
  }
  ::closedir(d);
  std::sort(others.begin(), others.end());
  for (const auto& [name, is_dir] : others) {
    TRY(MakePlaceholder(dir_fd.get(), name, is_dir), dir);
    plan.keep.push_back({name, name});
  }
  return plan;
}

}  // namespace

Result<std::vector<MountPlan>> PlanMounts(const std::string& state_dir,
                                          const std::vector<std::string>& rendered,
                                          const CpuView& view, const std::string& host_cpu_dir) {
  std::vector<MountPlan> plans;
  const std::set<std::string> names(rendered.begin(), rendered.end());
  bool sys_cpu = false;
  std::vector<MountPlan> blocks;  // last: /sys is the CPU directory's to refuse first
  for (const std::string& name : rendered) {
    if (name.compare(0, sizeof kSysCpuDir, std::string(kSysCpuDir) + "/") == 0) {
      sys_cpu = true;
    } else if (name.compare(0, sizeof kSysBlockDir, std::string(kSysBlockDir) + "/") == 0) {
      TRY_ASSIGN(std::optional<MountPlan> plan, PlanBlockStat(state_dir, name.substr(sizeof kSysBlockDir)),
                 "/sys block stat");
      if (plan) blocks.push_back(std::move(*plan));
    } else if (name.compare(0, 9, "pressure-") == 0) {
      plans.push_back({state_dir + "/" + name, "proc/pressure/" + name.substr(9), PROC_SUPER_MAGIC});
    } else {
      plans.push_back({state_dir + "/" + name, "proc/" + name, PROC_SUPER_MAGIC});
    }
  }
  if (sys_cpu) {
    TRY_ASSIGN(MountPlan plan, PlanSysCpu(state_dir, names, view, host_cpu_dir), "/sys CPU view");
    plans.push_back(std::move(plan));
  }
  plans.insert(plans.end(), std::make_move_iterator(blocks.begin()), std::make_move_iterator(blocks.end()));
  return plans;
}

}  // namespace prochook
