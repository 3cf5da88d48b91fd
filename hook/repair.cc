#include "hook/repair.h"

#include <dirent.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <ctime>

#include <algorithm>
#include <cstdio>

#include "common/io.h"
#include "common/log.h"
#include "common/proc.h"
#include "hook/spawn.h"
#include "state/record.h"
#include "state/state_dir.h"

namespace prochook {
namespace {

std::vector<std::string> StateDirNames(const std::string& run_dir) {
  std::vector<std::string> names;
  DIR* d = ::opendir(run_dir.c_str());
  if (d == nullptr) return names;
  while (struct dirent* e = ::readdir(d)) {
    if (e->d_type != DT_DIR || !ValidateContainerId(e->d_name)) continue;
    names.push_back(e->d_name);
  }
  ::closedir(d);
  std::sort(names.begin(), names.end());
  return names;
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

Result<Outcome> RepairOne(const std::string& dir) {
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

}  // namespace

RepairReport Repair(const std::string& run_dir, const std::string& skip_id,
                    std::chrono::steady_clock::time_point stop_by) {
  RepairReport report;
  for (const std::string& id : StateDirNames(run_dir)) {
    if (id == skip_id) continue;
    if (std::chrono::steady_clock::now() >= stop_by) break;
    auto outcome = RepairOne(run_dir + "/" + id);  // id: a directory name (StateDirName)
    if (!outcome) {
      report.problems.push_back(id + ": " + outcome.error().message());
    } else if (*outcome == Outcome::kRestarted) {
      report.restarted.push_back(id);
    } else if (*outcome == Outcome::kRemoved) {
      report.removed.push_back(id);
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
  for (const auto& id : r.removed) printf("%s: container gone, state removed\n", id.c_str());
  for (const auto& p : r.problems) printf("%s\n", p.c_str());
  if (r.restarted.empty() && r.removed.empty() && r.problems.empty()) printf("nothing to repair\n");
  return r.problems.empty() ? 0 : 1;
}

}  // namespace prochook
