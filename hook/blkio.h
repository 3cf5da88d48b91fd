// cgroup v1 block I/O accounting for a container's disks. Since Linux 6.10
// (blk-throttle initialised only once a limit is configured, commit
// a3166c51702b) blkio.throttle.io_service_bytes and io_serviced count a
// disk's I/O only after some cgroup configured a throttle limit on that
// disk: on a freshly booted host every v1 container's /proc/diskstats and
// /proc/vmstat bi/bo would stay 0. Writing "<major>:<minor> 0" (no limit)
// to the container's own blkio.throttle.write_bps_device starts the
// accounting for that disk and limits nothing.
#pragma once

#include <string>

#include "common/cgroup_dir.h"

namespace prochook {

// For every disk in sys_block (/sys/block); a v2 or absent blkio is left
// alone (v2's io.stat counts anyway). Returns how many disks it wrote.
int EnableBlkioAccounting(const CgroupDir& blkio, const std::string& sys_block = "/sys/block");

}  // namespace prochook
