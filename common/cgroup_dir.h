// Where one controller of a container's cgroup lives on the host.
#pragma once

#include <string>
#include <vector>

namespace prochook {

struct CgroupDir {
  int version = 0;    // 1 or 2; 0 means the controller is not available
  std::string dir;    // the container's cgroup directory
  std::string mount;  // the hierarchy's mount point (top of the ancestor walk)

  bool present() const { return version != 0; }
};

// dir, its parent, ... up to and including mount. Limits are effective as
// the smallest along this chain.
inline std::vector<std::string> Ancestors(const CgroupDir& cg) {
  std::vector<std::string> out;
  std::string d = cg.dir;
  for (;;) {
    out.push_back(d);
    if (d.size() <= cg.mount.size() || d.compare(0, cg.mount.size(), cg.mount) != 0) break;
    size_t slash = d.rfind('/');
    if (slash == std::string::npos || slash < cg.mount.size()) break;
    d.resize(slash);
  }
  return out;
}

}  // namespace prochook
