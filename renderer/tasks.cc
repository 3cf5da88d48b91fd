#include "renderer/tasks.h"

#include <dirent.h>

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <cstring>
#include <deque>
#include <utility>
#include <vector>

#include "common/io.h"
#include "common/text.h"

namespace prochook {
namespace {

// Bounds on the walk: a container creating cgroups cannot make a sample
// unboundedly expensive (v2's own default cgroup.max.depth is unlimited).
constexpr int kMaxDepth = 16;
constexpr size_t kMaxCgroups = 4096;
// cgroup.threads of a large container: ~8 bytes a tid.
constexpr size_t kMaxListBytes = 8 << 20;

// The cgroup directories under top, top first, breadth first. Entry types
// come from readdir (cgroupfs fills them in): no stat per interface file.
std::vector<std::string> CgroupTree(const std::string& top) {
  std::vector<std::string> out;
  std::deque<std::pair<std::string, int>> queue{{top, 0}};
  while (!queue.empty() && out.size() < kMaxCgroups) {
    auto [dir, depth] = std::move(queue.front());
    queue.pop_front();
    out.push_back(dir);
    if (depth == kMaxDepth) continue;
    DIR* d = ::opendir(dir.c_str());
    if (d == nullptr) continue;  // removed meanwhile: adds nothing
    while (struct dirent* e = ::readdir(d)) {
      // DT_DIR only: cgroupfs has no symlinks, and none is followed elsewhere.
      if (e->d_type != DT_DIR || std::strcmp(e->d_name, ".") == 0 || std::strcmp(e->d_name, "..") == 0) {
        continue;
      }
      queue.emplace_back(dir + "/" + e->d_name, depth + 1);
    }
    ::closedir(d);
  }
  return out;
}

void AddTids(std::string_view list, std::vector<uint64_t>& tids) {
  for (std::string_view line : SplitLines(list)) {
    if (auto tid = ParseU64(Trim(line))) tids.push_back(*tid);
  }
}

// count threads of `seen` sampled, as a share of `total`, rounded to the
// nearest; never more than total.
uint64_t ScaleUp(uint64_t count, uint64_t seen, uint64_t total) {
  if (seen == 0) return 0;
  if (seen == total) return count;
  return std::min(total, (count * total + seen / 2) / seen);
}

uint32_t Saturate(uint64_t n) { return static_cast<uint32_t>(std::min<uint64_t>(n, UINT32_MAX)); }

}  // namespace

Result<char> ParseTaskState(std::string_view stat) {
  size_t paren = stat.rfind(')');
  if (paren == std::string_view::npos) return Error::Msg("task stat: no \")\" after comm");
  auto f = SplitFields(Trim(stat.substr(paren + 1)));
  if (f.empty() || f[0].size() != 1) return Error::Msg("task stat: no state letter");
  return f[0][0];
}

Result<int> ParseNsPid(std::string_view status) {
  for (std::string_view line : SplitLines(status)) {
    if (line.substr(0, 6) != "NSpid:") continue;
    auto f = SplitFields(line.substr(6));
    int pid = 0;
    if (f.empty()) break;
    auto [p, ec] = std::from_chars(f.back().data(), f.back().data() + f.back().size(), pid);
    if (ec != std::errc() || p != f.back().data() + f.back().size() || pid <= 0) break;
    return pid;
  }
  return Error::Msg("task status: no valid NSpid line");
}

Result<> TaskSampler::ReadList(const CgroupDir& cg, const std::string& proc) {
  const char* list = cg.version == 1 ? "/tasks" : "/cgroup.threads";
  std::vector<uint64_t> tids;
  TRY_ASSIGN(std::string own, ReadFile(cg.dir + list, kMaxListBytes), "task list of " + cg.dir);
  AddTids(own, tids);
  std::vector<std::string> tree = CgroupTree(cg.dir);
  for (size_t i = 1; i < tree.size(); ++i) {
    // A child removed meanwhile, or a v2 cgroup whose threads cannot be
    // listed (EOPNOTSUPP on a domain-invalid cgroup), adds nothing.
    if (auto text = ReadFile(tree[i] + list, kMaxListBytes)) AddTids(*text, tids);
  }
  // Sorted, so a pass that ends within a sample can go on into the next
  // list without reading a thread twice (see Sample).
  std::sort(tids.begin(), tids.end());
  tids.erase(std::unique(tids.begin(), tids.end()), tids.end());
  tids_ = std::move(tids);
  next_ = 0;
  // The newest thread that still exists; a few tries, as the newest ones
  // may have exited since the list was read.
  for (size_t i = tids_.size(), tries = 0; i > 0 && tries < 8; --i, ++tries) {
    const std::string tid = std::to_string(tids_[i - 1]);
    auto status = ReadFile(proc + "/" + tid + "/task/" + tid + "/status");
    if (!status) continue;
    if (auto pid = ParseNsPid(*status)) last_pid_ = *pid;
    break;
  }
  return Ok{};
}

// Why a budget, and why this one: /proc/<tid>/stat of a thread is its
// process's stat (the tgid directory), which sums over every thread of the
// process (do_task_stat(whole=1)): reading it for each of 20,000 threads of
// one process is O(threads^2), about 10 ms a read here. A thread's own
// /proc/<tid>/task/<tid>/stat is O(1), ~15 us here: 256 of them are ~4 ms
// of the renderer's CPU per refresh, whatever the container does (measured
// with the files read, a refresh a second: 1 tick of CPU per 10 s with one
// thread, 6 with 1,000, 9 with 20,000; bench/costs.py), and every
// container of up to 256 threads is still counted exactly. Above that, the
// count is a sample of `budget` threads scaled up: for a fraction p of
// threads running, one sample's relative standard error is about
// sqrt((1 - p) / (p * budget)) (27% at p = 5%, 10% at p = 30%). The load
// averages fold a sample every 5 s into exponential averages of 12 (1 min)
// to 180 (15 min) periods, which cuts that error by ~5x (1 min) to ~20x
// (15 min); and as the samples take every thread in turn, each pass over
// the list counts every thread once, so a steady load converges to the
// exact count rather than to a biased one.
Result<TaskSample> TaskSampler::Sample(const CgroupDir& cg, const CgroupDir& pids,
                                       const std::string& proc) {
  if (!cg.present()) return Error::Msg("no cgroup for tasks");
  bool listed = false;
  if (next_ >= tids_.size() || tids_.size() <= budget_) {
    TRY(ReadList(cg, proc), "sampling tasks");
    listed = true;
  }
  const bool exact = listed && tids_.size() <= budget_;
  std::vector<uint64_t> batch;
  while (batch.size() < budget_ && next_ < tids_.size()) batch.push_back(tids_[next_++]);
  if (batch.size() < budget_ && !listed) {
    // The pass ended within this sample: the next one starts on a fresh
    // list, below this sample's first tid so none is read twice.
    const uint64_t stop = batch.empty() ? UINT64_MAX : batch.front();
    TRY(ReadList(cg, proc), "sampling tasks");
    while (batch.size() < budget_ && next_ < tids_.size() && tids_[next_] < stop) {
      batch.push_back(tids_[next_++]);
    }
  }

  uint64_t seen = 0, running = 0, blocked = 0;
  for (uint64_t tid : batch) {
    const std::string t = std::to_string(tid);
    auto stat = ReadFile(proc + "/" + t + "/task/" + t + "/stat");
    if (!stat) continue;  // exited since the list was read
    auto state = ParseTaskState(*stat);
    if (!state) continue;
    ++seen;
    if (*state == 'R') ++running;
    if (*state == 'D') ++blocked;
  }
  TaskSample s;
  s.last_pid = last_pid_;
  uint64_t total = seen;
  if (!exact) {
    total = tids_.size();
    if (pids.present()) {
      if (auto text = ReadFile(pids.dir + "/pids.current")) {
        if (auto n = ParseU64(Trim(*text))) total = *n;
      }
    }
  }
  s.total = Saturate(total);
  s.running = Saturate(ScaleUp(running, seen, total));
  s.uninterruptible = Saturate(ScaleUp(blocked, seen, total));
  return s;
}

}  // namespace prochook
