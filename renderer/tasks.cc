#include "renderer/tasks.h"

#include <dirent.h>

#include <charconv>
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

Result<TaskSample> SampleTasks(const CgroupDir& cg, const std::string& proc) {
  if (!cg.present()) return Error::Msg("no cgroup for tasks");
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

  TaskSample s;
  uint64_t newest = 0;
  for (uint64_t tid : tids) {
    auto stat = ReadFile(proc + "/" + std::to_string(tid) + "/stat");
    if (!stat) continue;  // exited since the list was read
    auto state = ParseTaskState(*stat);
    if (!state) continue;
    ++s.total;
    if (*state == 'R') ++s.running;
    if (*state == 'D') ++s.uninterruptible;
    if (tid > newest) newest = tid;
  }
  if (newest != 0) {
    auto status = ReadFile(proc + "/" + std::to_string(newest) + "/status");
    if (status) {
      if (auto pid = ParseNsPid(*status)) s.last_pid = *pid;
    }
  }
  return s;
}

}  // namespace prochook
