#include "hook/hook.h"

#include <algorithm>
#include <chrono>
#include <fcntl.h>
#include <sys/stat.h>

#include "common/fd.h"
#include "common/io.h"
#include "common/log.h"
#include "common/pidfd.h"
#include "common/timens.h"
#include "hook/blkio.h"
#include "hook/cgroups.h"
#include "hook/deadline.h"
#include "hook/inject.h"
#include "hook/plans.h"
#include "hook/repair.h"
#include "hook/spawn.h"
#include "oci/config.h"
#include "oci/options.h"
#include "oci/state.h"
#include "renderer/loop.h"
#include "state/record.h"
#include "state/state_dir.h"
#include "state/store.h"

namespace prochook {
namespace {

// Debug-level timings of the hook's phases (PROCHOOK_LOG_LEVEL=debug): the
// hook delays the container's start, so where its time goes is worth a line.
class PhaseClock {
 public:
  void Mark(const char* phase) {
    const auto now = std::chrono::steady_clock::now();
    LOG_DEBUG("timing: %s took %lld us", phase,
              static_cast<long long>(std::chrono::duration_cast<std::chrono::microseconds>(now - last_).count()));
    last_ = now;
  }

 private:
  std::chrono::steady_clock::time_point last_ = std::chrono::steady_clock::now();
};

void Cleanup(const std::string& dir) {
  StopRenderer(dir);
  // A live sysinfo agent's socket is the runtime's to connect to: its
  // directory loses the record alone (the agent then lets sysinfo run
  // unchanged, and removes the directory once the container is gone).
  if (LiveAgentPid(dir)) {
    ::unlink((dir + "/" + kRecordFile).c_str());
    return;
  }
  if (auto r = RemoveStateDir(dir); !r) LOG_WARN("cleanup: %s", r.error().message().c_str());
}

enum class Existing {
  kNone,      // no directory: the hook makes it
  kServing,   // this container is served already
  kPrepared,  // made by the runtime wrapper or the NRI plugin for the sysinfo agent
};

// Before taking over an existing directory at our path. It may be ours
// already (the same hook configured for two stages, prestart and
// createRuntime), a leftover of a container gone, or in use by another
// container with our id and bundle (one per runtime root): that one is
// never touched. Our own hooks run one after the other, so a directory
// locked by a hook in progress is another container's.
Result<Existing> AlreadyServing(const std::string& dir, const PinnedProcess& init) {
  auto lock = LockStateDir(dir, /*wait=*/false);
  if (!lock && lock.error().err() == EWOULDBLOCK) {
    return Error::Msg("state directory " + dir + " is being set up by another hook (a container with this id)");
  }
  if (!lock) return Existing::kNone;
  auto old = LoadRecord(dir);
  if (!old && LiveAgentPid(dir)) return Existing::kPrepared;
  const bool same_init = old && old->pid == init.pid && old->pid_start == init.start_time;
  if (same_init && LiveRendererPid(dir)) return Existing::kServing;
  if (old && !same_init && InitAlive(*old)) {
    return Error::Msg("state directory " + dir + " belongs to another running container with this id (init " +
                      std::to_string(old->pid) + "); leaving it alone");
  }
  LOG_INFO("removing stale state in %s", dir.c_str());
  Cleanup(dir);
  return Existing::kNone;
}

// On failure, *kept says that some files stay mounted, served by the state
// and renderer kept for them.
Result<> Setup(const HookArgs& args, const OciState& state, const OciConfig& config,
               const Options& options, const Deadline& deadline, bool* kept) {
  PhaseClock clock;
  const std::string dir = args.run_dir + "/" + HookStateDirName(args, state.id, state.bundle);
  // From here on the init is named by its pidfd: what is read by pid below
  // is checked to have been read while it still held the pid.
  TRY_ASSIGN(PinnedProcess init, PinProcess(state.pid), "container init");
  TRY_ASSIGN(Existing existing, AlreadyServing(dir, init), "state directory");
  if (existing == Existing::kServing) {
    LOG_INFO("already serving this container");
    return Ok{};
  }

  ContainerRecord record;
  record.id = state.id;
  record.pid = state.pid;
  record.pid_start = init.start_time;
  record.rootfs = ResolveRootPath(state.bundle, config.root_path);
  record.interval_ms = options.interval.count();
  // Idle mode never refreshes more often than the interval itself.
  record.idle_ms = options.idle.count() == 0 ? 0 : std::max(options.idle.count(), record.interval_ms);
  record.fresh_reads = options.fresh_reads;
  TRY(deadline.Check("locating cgroups"), "hook deadline");
  TRY_ASSIGN(record.cgroups, LoadCgroups(state.pid), "locating cgroups");
  if (!PidfdAlive(init.pidfd.get())) return Error::Msg("the container init exited");
  if (std::none_of(record.cgroups.begin(), record.cgroups.end(),
                   [](const auto& c) { return c.second.present(); })) {
    return Error::Msg("the container has no cgroup prochook can read");
  }
  clock.Mark("locating cgroups");
  if (auto it = record.cgroups.find("blkio"); it != record.cgroups.end()) EnableBlkioAccounting(it->second);
  record.files = options.files;
  record.cpu_view_quota = options.cpu_view_quota;
  record.show_swap = options.show_swap;
  record.clock_offset_s = BoottimeOffset(init.pid).sec;
  // With a clock of its own the kernel's /proc/uptime is the container's
  // and ps stays right: nothing to render.
  record.container_uptime = options.container_uptime && !record.own_clock();
  if (options.container_uptime && record.own_clock()) {
    LOG_INFO("%s: the container has a clock of its own; /proc/uptime is the kernel's",
             kAnnotationUptime);
  }

  // A full store turns new containers away, so those it serves keep room.
  TRY(CheckStoreRoom(args.run_dir), "store");
  if (existing != Existing::kPrepared) TRY(CreateStateDir(args.run_dir, dir), "state directory");
  TRY_ASSIGN(UniqueFd lock, LockStateDir(dir, /*wait=*/true), "state directory");
  bool mounts_may_remain = false;
  Result<> r = [&]() -> Result<> {
    TRY(WriteFileAtomic(dir + "/" + kRecordFile, SerializeRecord(record), 0600, Durability::kVolatile),
        "state.json");
    clock.Mark("state directory");
    TRY(deadline.Check("the first render"), "hook deadline");
    const RenderSummary first = RenderAllOnce(dir, record);
    clock.Mark("first render");
    if (first.rendered.empty()) return Error::Msg("no file could be rendered");
    TRY_ASSIGN(std::vector<MountPlan> plans, PlanMounts(dir, first.rendered, first.view),
               "planning mounts");
    TRY(deadline.Check("starting the renderer"), "hook deadline");
    TRY_ASSIGN(pid_t renderer, SpawnRenderer(dir), "starting the renderer");
    TRY(WriteRendererPid(dir, renderer), "starting the renderer");
    clock.Mark("starting the renderer");
    // The last point to give up: once mounting has begun, finishing is
    // quicker than undoing it.
    TRY(deadline.Check("mounting"), "hook deadline");
    TRY_ASSIGN(size_t mounted, ApplyMounts(init.pidfd.get(), record.rootfs, plans, &mounts_may_remain),
               "mounting");
    clock.Mark("mounting");
    LOG_INFO("serving %zu file(s), renderer %d, every %lld ms", mounted, renderer,
             static_cast<long long>(record.interval_ms));
    return Ok{};
  }();
  if (r) return r;
  // Removing the state would leave frozen files mounted: the renderer keeps
  // them fresh and removes the state when the container exits (`repair`
  // restarts it should it be gone).
  *kept = mounts_may_remain;
  if (!*kept) {
    Cleanup(dir);
  } else {
    const auto renderer = LiveRendererPid(dir);
    LOG_WARN("mounts may remain in the container: keeping %s and its renderer (%s)", dir.c_str(),
             renderer ? std::to_string(*renderer).c_str() : "not running");
  }
  return r;
}

// Our container has stopped (its pid is 0 by now): a directory at our path
// whose init still runs belongs to another container with our id and
// bundle, as does one a hook is setting up (locked). One without a
// readable record is left to `repair`, unless it is keyed (--state-key):
// a keyed directory is this container's alone, made by the NRI plugin for
// its agent before the runtime ran it, so a container that stopped before
// the createRuntime hook served it (its creation failed) leaves nothing.
void CleanupStopped(const std::string& dir, bool keyed) {
  auto lock = LockStateDir(dir, /*wait=*/false);
  if (!lock) return;  // none, or another container's being set up
  auto record = LoadRecord(dir);
  if (!record && keyed) {
    LOG_INFO("removing %s: the container stopped before it was served", dir.c_str());
    // Its agent, handed no notify fd, sees the directory gone and exits.
    if (auto r = RemoveStateDir(dir); !r) LOG_WARN("cleanup: %s", r.error().message().c_str());
  } else if (!record) {
    LOG_WARN("leaving %s to repair: %s", dir.c_str(), record.error().message().c_str());
  } else if (InitAlive(*record)) {
    LOG_INFO("leaving %s: it serves another running container with this id (init %d)", dir.c_str(),
             record->pid);
  } else {
    Cleanup(dir);
  }
}

// <run dir>/hook.log: where an operator finds why a container was declined
// (runtimes drop a successful hook's stderr, and syslog may be absent).
// Kept under 1 MiB by moving it to hook.log.1.
UniqueFd OpenHookLog(const std::string& run_dir) {
  ::mkdir(run_dir.c_str(), 0700);
  const std::string path = run_dir + "/" + kHookLogFile;
  struct stat st;
  if (::stat(path.c_str(), &st) == 0 && st.st_size > (1 << 20)) {
    ::rename(path.c_str(), (path + ".1").c_str());
  }
  return UniqueFd(::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600));
}

int HandleStage(const HookArgs& args, const OciState& state, Deadline::Clock::time_point start,
                Deadline* deadline) {
  if (args.stage == "poststop" || state.status == "stopped") {
    CleanupStopped(args.run_dir + "/" + HookStateDirName(args, state.id, state.bundle), !args.state_key.empty());
    return 0;
  }

  auto config = LoadConfig(state.bundle);
  if (!config) {
    LOG_ERROR("%s", config.error().message().c_str());
    return 2;
  }
  *deadline = Deadline(start, OwnHookTimeout(config->setup_hooks));
  const Options options = ParseOptions(config->annotations);
  for (const std::string& w : options.warnings) LOG_WARN("ignoring annotation %s", w.c_str());
  if (options.disabled) {
    LOG_INFO("disabled by annotation %s; container left untouched", kAnnotationDisable);
    return 0;
  }
  bool kept = false;
  if (auto r = Setup(args, state, *config, options, *deadline, &kept); !r) {
    if (options.policy == FailPolicy::kClosed) {
      LOG_ERROR("failing the container start (policy fail-closed): %s",
                r.error().message().c_str());
      return 1;
    }
    LOG_WARN(kept ? "container starts with some of prochook's files, kept fresh (policy fail-open): %s"
                  : "container starts without prochook (policy fail-open): %s",
             r.error().message().c_str());
  }
  return 0;
}

}  // namespace

std::string HookStateDirName(const HookArgs& args, const std::string& id, const std::string& bundle) {
  return StateDirName(id, args.state_key.empty() ? bundle : args.state_key);
}

int RunHook(const HookArgs& args, std::string_view state_text) {
  const auto start = Deadline::Clock::now();
  // Before hook.log, which lives on the store: what EnsureStore logs is
  // kept until ConfigureLog writes it there (common/log.h).
  EnsureStore(args.run_dir);
  const UniqueFd log_file = OpenHookLog(args.run_dir);
  LogConfig log{.fd = 2, .file_fd = log_file.get(), .syslog = true, .min = LevelFromEnv(), .tag = "prochook hook"};
  ConfigureLog(log);
  auto state = ParseState(state_text);
  if (!state) {
    LOG_ERROR("%s", state.error().message().c_str());
    return 2;
  }
  if (auto ok = ValidateContainerId(state->id); !ok) {
    LOG_ERROR("OCI state: %s", ok.error().message().c_str());
    return 2;
  }
  const std::string tag = "prochook hook " + state->id;
  log.tag = tag.c_str();
  ConfigureLog(log);

  PhaseClock clock;
  Deadline deadline;
  const int code = HandleStage(args, *state, start, &deadline);
  clock.Mark(args.stage.empty() ? "hook" : args.stage.c_str());
  // Every hook invocation also repairs some other containers' state: a
  // renderer that died is restarted, the state of a gone container removed.
  // Never at the cost of this container's start: a few directories in turn
  // (repair.h), and it stops at the deadline.
  const bool stopping = args.stage == "poststop" || state->status == "stopped";
  const RepairReport repair = Repair(args.run_dir, HookStateDirName(args, state->id, state->bundle), deadline.At(),
                                     stopping ? kRepairOnStop : kRepairOnStart);
  for (const auto& id : repair.removed) LOG_INFO("repair: removed the state of gone container %s", id.c_str());
  for (const auto& p : repair.problems) LOG_WARN("repair: %s", p.c_str());
  clock.Mark("repair");
  return code;
}

}  // namespace prochook
