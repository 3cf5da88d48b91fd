// The threads of a container's cgroup tree and their scheduler states: the
// inputs of /proc/loadavg (fs/proc/loadavg.c prints nr_running(),
// nr_threads and the pid namespace's last allocated pid) and of /proc/stat's
// procs_running and procs_blocked.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/cgroup_dir.h"
#include "common/result.h"

namespace prochook {

struct TaskSample {
  // Counts, or estimates above the budget (see TaskSampler).
  uint32_t running = 0;          // state R
  uint32_t uninterruptible = 0;  // state D (not I: TASK_IDLE does not load)
  uint32_t total = 0;            // threads of the container
  int last_pid = 0;              // in the container's pid namespace; 0 if unknown
};

// The state letter of /proc/<tid>/stat: the first field after the last ')'
// (comm may hold spaces and ')').
Result<char> ParseTaskState(std::string_view stat);
// The last NSpid field of /proc/<tid>/status: the id in the innermost pid
// namespace (the line exists since Linux 4.1).
Result<int> ParseNsPid(std::string_view status);

// Task stat files read per sample at most: the renderer's cost per refresh
// must not grow with the container's thread count (tasks.cc says why 256
// and what accuracy it gives).
inline constexpr size_t kTaskStatBudget = 256;

// Samples the threads of cg.dir and its descendant cgroups (v1 "tasks", v2
// "cgroup.threads"). A container with at most `budget` threads is counted
// exactly on every sample. A larger one has `budget` of its threads read per
// sample, in turn, and running and uninterruptible are scaled up from them;
// total is then pids.current of the pids cgroup (the list's size without
// one). The list itself is read again once a pass over it ends, so its
// O(threads) cost is spread over the pass.
class TaskSampler {
 public:
  explicit TaskSampler(size_t budget = kTaskStatBudget) : budget_(budget) {}

  // Threads that exit meanwhile are skipped; fails only when cg.dir's own
  // list is unreadable. last_pid comes from the largest host tid of the
  // last list read. pids may be absent.
  Result<TaskSample> Sample(const CgroupDir& cg, const CgroupDir& pids = {},
                            const std::string& proc = "/proc");

 private:
  Result<> ReadList(const CgroupDir& cg, const std::string& proc);

  size_t budget_;
  std::vector<uint64_t> tids_;  // sorted, as of the last list read
  size_t next_ = 0;             // the next one to read in tids_
  int last_pid_ = 0;
};

}  // namespace prochook
