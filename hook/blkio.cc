#include "hook/blkio.h"

#include <dirent.h>
#include <fcntl.h>

#include "common/io.h"
#include "common/log.h"
#include "common/text.h"

namespace prochook {

int EnableBlkioAccounting(const CgroupDir& blkio, const std::string& sys_block) {
  if (blkio.version != 1) return 0;
  auto file = OpenFile(blkio.dir + "/blkio.throttle.write_bps_device", O_WRONLY);
  if (!file) {
    LOG_DEBUG("blkio accounting: %s", file.error().message().c_str());
    return 0;
  }
  DIR* d = ::opendir(sys_block.c_str());
  if (d == nullptr) return 0;
  int written = 0;
  while (struct dirent* e = ::readdir(d)) {
    if (e->d_name[0] == '.') continue;
    auto dev = ReadFile(sys_block + "/" + e->d_name + "/dev", 64);
    if (!dev) continue;
    const std::string line = std::string(Trim(*dev)) + " 0\n";
    if (WriteAll(file->get(), line)) ++written;
  }
  ::closedir(d);
  return written;
}

}  // namespace prochook
