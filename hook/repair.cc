#include "hook/repair.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <ctime>

#include <cstdint>
#include <cstdio>

#include "agent/start.h"
#include "common/fd.h"
#include "common/io.h"
#include "common/log.h"
#include "common/proc.h"
#include "common/text.h"
#include "hook/spawn.h"
#include "state/record.h"
#include "state/state_dir.h"

namespace prochook {
namespace {

// Names of the state directories in run_dir in directory order, at most
// `max` of them, from `from` (a directory offset as getdents64 gives in
// d_off; 0 is the start). next: where the following ones begin, 0 once the
// listing reached its end. The kernel reads the directory a 4 KiB buffer at
// a time, so a short slice costs the same whatever the number of
// directories. Offsets are stable cookies on XFS and tmpfs (NFS relies on
// them); a bad one only makes a pass skip or repeat names.
struct DirSlice {
  std::vector<std::string> names;
  uint64_t next = 0;
};

DirSlice ListStateDirs(const std::string& run_dir, uint64_t from, size_t max) {
  DirSlice out;
  UniqueFd fd(::open(run_dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd.valid()) return out;
  if (::lseek(fd.get(), static_cast<off_t>(from), SEEK_SET) < 0) return out;
  alignas(struct dirent64) char buf[4096];
  for (;;) {
    const ssize_t n = ::getdents64(fd.get(), buf, sizeof buf);
    if (n <= 0) {  // the end (or an error): the next slice starts over
      out.next = 0;
      return out;
    }
    for (ssize_t off = 0; off < n;) {
      const auto* e = reinterpret_cast<const struct dirent64*>(buf + off);
      off += e->d_reclen;
      out.next = static_cast<uint64_t>(e->d_off);
      // Every directory but the dot entries is a container's; its name is
      // the state directory's business (state_dir.cc), not repair's.
      if (e->d_type != DT_DIR || e->d_name[0] == '.') continue;
      out.names.push_back(e->d_name);
      if (out.names.size() == max) return out;
    }
  }
}

// The directory offset where the hook's next bounded repair starts.
uint64_t ReadCursor(const std::string& run_dir) {
  auto text = ReadFile(run_dir + "/" + kRepairCursorFile);
  if (!text) return 0;
  return ParseU64(Trim(*text)).value_or(0);
}

// Rewritten in place at a fixed width: no rename, no truncation, and
// concurrent hooks at worst repair the same directories twice.
void WriteCursor(const std::string& run_dir, uint64_t next) {
  UniqueFd fd(::open((run_dir + "/" + kRepairCursorFile).c_str(),
                     O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (!fd.valid()) return;
  char line[32];
  const int len = std::snprintf(line, sizeof line, "%020llu\n", static_cast<unsigned long long>(next));
  (void)PwriteAll(fd.get(), std::string_view(line, static_cast<size_t>(len)), 0);
}

enum class Outcome { kHealthy, kRestarted, kRemoved };

// A directory this old without state.json and without a hook holding its
// lock was abandoned (the hook was killed between mkdir and the record).
constexpr int kAbandonedAfter = 10;  // seconds

// Seconds since path was last modified (0 if it cannot be read). For a
// state directory: since the renderer's last refresh, which touches it.
double SecondsSinceModified(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return 0;
  struct timespec now;
  ::clock_gettime(CLOCK_REALTIME, &now);
  return static_cast<double>(now.tv_sec - st.st_mtim.tv_sec) +
         static_cast<double>(now.tv_nsec - st.st_mtim.tv_nsec) / 1e9;
}

// A live renderer that has not refreshed for three idle periods and
// intervals, and 5 s more, is hung (stopped, stuck, spinning): it is
// replaced. Generous, so a renderer merely late on a loaded host is left
// alone.
constexpr double kHungSlack = 5;  // seconds

bool Hung(const std::string& dir) {
  const double since = SecondsSinceModified(dir);
  if (since <= kHungSlack) return false;  // the common case, without reading the record
  auto text = ReadFile(dir + "/" + kRecordFile);
  auto record = text ? ParseRecord(*text) : Result<ContainerRecord>(text.error());
  if (!record) return false;
  return since > 3 * static_cast<double>(record->idle_ms + record->interval_ms) / 1000 + kHungSlack;
}

// The sysinfo agent of a running container died (agent.pid names no live
// agent): a new one takes its notify fds back from the holder
// (agent/holder.h). Trapped calls wait meanwhile.
Result<bool> RepairAgent(const std::string& dir) {
  if (LiveAgentPid(dir) || ::access((dir + "/" + kAgentPidFile).c_str(), F_OK) != 0) return false;
  auto record = LoadRecord(dir);
  if (!record || !InitAlive(*record)) return false;
  TRY(StartAgent(dir), "restarting the sysinfo agent");
  LOG_INFO("container %s: restarted its sysinfo agent", record->id.c_str());
  return true;
}

Result<Outcome> RepairRenderer(const std::string& dir) {
  // Cheap check first: most directories have a live renderer.
  if (LiveRendererPid(dir) && !Hung(dir)) return Outcome::kHealthy;
  auto lock = LockStateDir(dir, /*wait=*/false);
  if (!lock) return Outcome::kHealthy;  // a hook is setting it up right now
  if (auto live = LiveRendererPid(dir)) {
    if (!Hung(dir)) return Outcome::kHealthy;
    LOG_WARN("renderer %d of %s has not refreshed for %.0f s: replacing it", *live, dir.c_str(),
             SecondsSinceModified(dir));
    // SIGKILL ends even a stopped process.
    if (!StopRenderer(dir, /*grace_ms=*/100)) return Error::Msg("a hung renderer could not be stopped");
  }

  auto text = ReadFile(dir + "/" + kRecordFile);
  // Made by the runtime wrapper or the NRI plugin for a sysinfo agent, which removes it.
  if (!text && LiveAgentPid(dir)) return Outcome::kHealthy;
  if (!text && SecondsSinceModified(dir) > kAbandonedAfter) {
    // Unlocked, no record, not new: a hook was killed while setting it up.
    TRY(RemoveStateDir(dir), "removing an abandoned state directory");
    return Outcome::kRemoved;
  }
  TRY(text, "state.json");
  TRY_ASSIGN(ContainerRecord record, ParseRecord(*text), "state.json");
  auto start = ReadProcessStartTime(record.pid);
  if (!start || *start != record.pid_start) {
    TRY(RemoveStateDir(dir), "removing the state of a gone container");
    return Outcome::kRemoved;
  }
  TRY_ASSIGN(pid_t renderer, SpawnRenderer(dir), "restarting the renderer");
  TRY(WriteRendererPid(dir, renderer), "restarting the renderer");
  LOG_INFO("container %s: restarted its renderer (pid %d)", record.id.c_str(), renderer);
  return Outcome::kRestarted;
}

// The agent first: trapped calls wait for it.
Result<Outcome> RepairOne(const std::string& dir, bool* agent_restarted) {
  TRY_ASSIGN(*agent_restarted, RepairAgent(dir), "sysinfo agent");
  return RepairRenderer(dir);
}

}  // namespace

RepairReport Repair(const std::string& run_dir, const std::string& skip_id,
                    std::chrono::steady_clock::time_point stop_by, size_t max_dirs) {
  RepairReport report;
  const bool bounded = max_dirs != kRepairAll;
  const DirSlice slice = ListStateDirs(run_dir, bounded ? ReadCursor(run_dir) : 0, max_dirs);
  if (bounded) WriteCursor(run_dir, slice.next);
  const std::string skip = skip_id.empty() ? "" : run_dir + "/" + skip_id;
  for (const std::string& name : slice.names) {
    const std::string dir = run_dir + "/" + name;
    if (dir == skip) continue;
    if (std::chrono::steady_clock::now() >= stop_by) break;
    bool agent_restarted = false;
    auto outcome = RepairOne(dir, &agent_restarted);
    if (agent_restarted) report.agents_restarted.push_back(name);
    if (!outcome) {
      report.problems.push_back(name + ": " + outcome.error().message());
    } else if (*outcome == Outcome::kRestarted) {
      report.restarted.push_back(name);
    } else if (*outcome == Outcome::kRemoved) {
      report.removed.push_back(name);
    }
  }
  return report;
}

int RunRepair(const std::vector<std::string>& args) {
  std::string run_dir = kDefaultRunDir;
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--run-dir" && i + 1 < args.size()) {
      run_dir = args[++i];
    } else {
      fprintf(stderr, "usage: prochook repair [--run-dir DIR]\n");
      return 2;
    }
  }
  ConfigureLog({.fd = 2, .syslog = true, .min = LevelFromEnv(), .tag = "prochook repair"});
  const RepairReport r = Repair(run_dir);
  for (const auto& id : r.restarted) printf("%s: renderer restarted\n", id.c_str());
  for (const auto& id : r.agents_restarted) printf("%s: sysinfo agent restarted\n", id.c_str());
  for (const auto& id : r.removed) printf("%s: container gone, state removed\n", id.c_str());
  for (const auto& p : r.problems) printf("%s\n", p.c_str());
  if (r.restarted.empty() && r.agents_restarted.empty() && r.removed.empty() && r.problems.empty()) {
    printf("nothing to repair\n");
  }
  return r.problems.empty() ? 0 : 1;
}

}  // namespace prochook
