#include "hook/block_plans.h"

#include <linux/magic.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <string_view>
#include <utility>

namespace prochook {

Result<std::optional<MountPlan>> PlanBlockStat(const std::string& state_dir, const std::string& name,
                                               const std::string& sys_root) {
  if (name.empty() || name == "." || name == ".." || name.find('/') != std::string::npos) {
    return Error::Msg("bad block device name \"" + name + "\"");
  }
  // The host's sysfs, read here in the host's mount namespace: the
  // container's sysfs shows the same /sys/devices tree (only network
  // devices are per namespace), and the target is resolved again inside
  // it without following symlinks (inject.h). The kernel makes the class
  // entry a relative link, "../../devices/<path>": one readlink (realpath
  // would walk sysfs once per component, ~6x the cost).
  const std::string link = sys_root + "/class/block/" + name;
  char buf[4096];
  const ssize_t n = ::readlink(link.c_str(), buf, sizeof buf);
  if (n < 0 && errno == ENOENT) return std::optional<MountPlan>();
  if (n < 0) return Error::Sys("readlink " + link);
  if (static_cast<size_t>(n) == sizeof buf) return Error::Msg("readlink " + link + ": too long");
  const std::string to(buf, static_cast<size_t>(n));
  constexpr std::string_view kPrefix = "../../devices/";
  const std::string path = to.substr(std::min(to.size(), kPrefix.size() - 1));  // "/<path>"
  if (to.compare(0, kPrefix.size(), kPrefix) != 0 || (path + "/").find("/../") != std::string::npos ||
      (path + "/").find("/./") != std::string::npos || to.back() == '/') {
    return Error::Msg("block device " + name + " links to " + to + ", not below /sys/devices");
  }
  MountPlan plan{state_dir + "/" + kSysBlockDir + "/" + name, "sys/" + to.substr(6) + "/stat", SYSFS_MAGIC};
  plan.skip_if_missing = true;
  return std::optional<MountPlan>(std::move(plan));
}

}  // namespace prochook
