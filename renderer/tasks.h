// The threads of a container's cgroup tree and their scheduler states: the
// inputs of /proc/loadavg (fs/proc/loadavg.c prints nr_running(),
// nr_threads and the pid namespace's last allocated pid).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/cgroup_dir.h"
#include "common/result.h"

namespace prochook {

struct TaskSample {
  uint32_t running = 0;          // state R
  uint32_t uninterruptible = 0;  // state D (not I: TASK_IDLE does not load)
  uint32_t total = 0;            // threads that still existed when sampled
  int last_pid = 0;              // in the container's pid namespace; 0 if unknown
};

// The state letter of /proc/<tid>/stat: the first field after the last ')'
// (comm may hold spaces and ')').
Result<char> ParseTaskState(std::string_view stat);
// The last NSpid field of /proc/<tid>/status: the id in the innermost pid
// namespace (the line exists since Linux 4.1).
Result<int> ParseNsPid(std::string_view status);

// Threads of cg.dir and its descendant cgroups (v1 "tasks", v2
// "cgroup.threads"), their states read from <proc>/<tid>/stat. Threads that
// exit meanwhile are skipped; fails only when cg.dir's own list is
// unreadable. last_pid comes from the largest host tid.
// Every file is opened afresh: a v1 task list read again through the same
// open file is the list the kernel cached at the first read, for as long as
// reads keep coming (cgroup-v1.c pidlists), so it must never be kept open.
Result<TaskSample> SampleTasks(const CgroupDir& cg, const std::string& proc = "/proc");

}  // namespace prochook
