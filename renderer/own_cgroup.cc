#include "renderer/own_cgroup.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/io.h"
#include "common/log.h"
#include "common/mountinfo.h"
#include "common/text.h"

namespace prochook {
namespace {

bool WantHierarchy(const MountInfo& m) {
  if (m.fs_type == "cgroup2") return true;
  if (m.fs_type != "cgroup") return false;
  for (std::string_view opt : Split(m.super_options, ',')) {
    if (opt == "memory" || opt == "cpu" || opt == "cpuacct" || opt == "pids" || opt == "blkio") {
      return true;
    }
  }
  return false;
}

}  // namespace

void JoinRendererCgroup() {
  auto text = ReadFile("/proc/self/mountinfo", 16 << 20);
  if (!text) {
    LOG_WARN("staying in the current cgroup: %s", text.error().message().c_str());
    return;
  }
  const std::string pid = std::to_string(getpid());
  for (const MountInfo& m : ParseMountinfo(*text)) {
    if (!WantHierarchy(m) || m.root != "/") continue;
    const std::string dir = m.mount_point + "/" + kRendererCgroup;
    if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) {
      LOG_WARN("cannot create %s: %s", dir.c_str(), Error::Sys("mkdir").message().c_str());
      continue;
    }
    auto procs = OpenFile(dir + "/cgroup.procs", O_WRONLY);
    auto moved = procs ? WriteAll(procs->get(), pid) : Result<>(procs.error());
    if (!moved) LOG_WARN("cannot join %s: %s", dir.c_str(), moved.error().message().c_str());
  }
}

}  // namespace prochook
