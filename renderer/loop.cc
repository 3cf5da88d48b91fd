#include "renderer/loop.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <poll.h>
#include <signal.h>
#include <sys/inotify.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <map>
#include <optional>

#include "common/clock.h"
#include "common/io.h"
#include "common/log.h"
#include "common/proc.h"
#include "renderer/files.h"
#include "renderer/heartbeat.h"
#include "renderer/own_cgroup.h"
#include "renderer/read_gate.h"
#include "renderer/sandbox.h"
#include "renderer/writer.h"
#include "state/record.h"
#include "state/state_dir.h"

namespace prochook {
namespace {

// The block devices an earlier renderer of this container served (the
// files of its sys-block directory), or nullopt if it served none.
std::optional<std::vector<std::string>> ListBlockStats(const std::string& dir) {
  DIR* d = ::opendir((dir + "/sys-block").c_str());
  if (d == nullptr) return std::nullopt;
  std::vector<std::string> names;
  while (struct dirent* e = ::readdir(d)) {
    if (e->d_type == DT_REG) names.emplace_back(e->d_name);
  }
  ::closedir(d);
  std::sort(names.begin(), names.end());
  return names;
}

// Renders every file into its store. A file that fails keeps its last good
// content; the error is logged once per change of message.
class Refresher {
 public:
  Refresher(std::string state_dir, const ContainerRecord& record)
      : dir_(std::move(state_dir)), renderer_(record) {
    if (auto previous = ReadFile(dir_ + "/stat"); previous) renderer_.Resume(*previous);
    if (auto previous = ReadFile(dir_ + "/vmstat"); previous) renderer_.ResumeVmstat(*previous);
    if (auto devices = ListBlockStats(dir_)) renderer_.KeepBlockDevices(std::move(*devices));
  }

  // What an unread container needs between refreshes: its load average
  // sampled, as the kernel samples the host's whoever reads it.
  void SampleLoad() { renderer_.SampleLoad(MonotonicMs()); }

  // The open descriptors of every file written so far (the served ones).
  std::vector<int> Written() const {
    std::vector<int> fds;
    for (const auto& [path, store] : stores_) fds.push_back(store.fd());
    return fds;
  }
  size_t written_count() const { return stores_.size(); }

  // Files that failed are left out of the summary (and keep any earlier
  // content); the rest are written.
  RenderSummary Refresh() {
    RenderSummary summary;
    for (RenderedFile& file : renderer_.Render(MonotonicMs())) {
      auto written = file.content ? Store(file.path) : Result<FileStore*>(file.content.error());
      Result<> ok = written ? (*written)->Update(*file.content) : Result<>(written.error());
      if (!ok) {
        std::string& last = last_error_[file.path];
        if (last != ok.error().message()) {
          last = ok.error().message();
          LOG_WARN("%s: %s (keeping last good content)", file.path.c_str(), last.c_str());
        }
      } else {
        last_error_.erase(file.path);
        summary.rendered.push_back(file.path);
      }
    }
    summary.view = renderer_.view();
    for (const auto& [path, error] : last_error_) summary.problems.push_back(path + ": " + error);
    for (std::string& d : renderer_.Degraded()) summary.problems.push_back(std::move(d));
    return summary;
  }

 private:
  Result<FileStore*> Store(const std::string& path) {
    auto it = stores_.find(path);
    if (it == stores_.end()) {
      // Files of the /sys CPU view live in a subdirectory, readable (0755)
      // by the container's users once mounted.
      if (size_t slash = path.find('/'); slash != std::string::npos) {
        const std::string sub = dir_ + "/" + path.substr(0, slash);
        if (::mkdir(sub.c_str(), 0755) != 0 && errno != EEXIST) return Error::Sys("mkdir " + sub);
      }
      TRY_ASSIGN(FileStore s, FileStore::Open(dir_ + "/" + path), path);
      it = stores_.emplace(path, std::move(s)).first;
    }
    return &it->second;
  }

  std::string dir_;
  ContainerRenderer renderer_;
  std::map<std::string, FileStore> stores_;
  std::map<std::string, std::string> last_error_;
};

// Tells whether the container reads its files: an inotify watch on each
// store file. inotify watches inodes, so opens and reads through the bind
// mounts in the container are seen; the renderer's own writes are not
// (IN_MODIFY is not asked for).
class ReadWatch {
 public:
  void Watch(const std::string& dir, const std::vector<std::string>& files) {
    fd_ = UniqueFd(::inotify_init1(IN_NONBLOCK | IN_CLOEXEC));
    if (!fd_.valid()) {
      LOG_WARN("%s: refreshing every interval", Error::Sys("inotify_init1").message().c_str());
      return;
    }
    for (const std::string& f : files) {
      if (::inotify_add_watch(fd_.get(), (dir + "/" + f).c_str(), IN_OPEN | IN_ACCESS) < 0) {
        LOG_WARN("%s: refreshing every interval", Error::Sys("inotify_add_watch " + f).message().c_str());
        fd_.reset();
        return;
      }
    }
  }
  int fd() const { return fd_.valid() ? fd_.get() : -1; }
  // Empties the queue; true if any read was seen.
  bool Drain() {
    alignas(struct inotify_event) char buf[4096];
    bool seen = false;
    while (::read(fd_.get(), buf, sizeof buf) > 0) seen = true;
    return seen;
  }

 private:
  UniqueFd fd_;
};

// The refresh loop of one container, from its first refresh until the
// init exits or a stop signal comes.
//
// Idle mode: once nobody has read the files for idle_ms they are no longer
// refreshed. The read gate (renderer/read_gate.h) holds the next read until
// a refresh is done, so no read sees old content; meanwhile the load
// average is sampled once per idle period and the state directory's mtime
// says the renderer lives. Without a gate (no fanotify, or
// io.prochook.first-read=periodic) the files are refreshed once per idle
// period instead and a read wakes the renderer after it is served.
class ServeLoop {
 public:
  enum class End { kInitExited, kStopped, kFailed };

  ServeLoop(const std::string& state_dir, const ContainerRecord& record, int init_pidfd, int sigfd)
      : state_dir_(state_dir), record_(record), refresher_(state_dir, record), heartbeat_(state_dir),
        init_pidfd_(init_pidfd), sigfd_(sigfd) {}

  End Run() {
    for (bool first = true;; first = false) {
      RefreshIfDue(first);
      // After the first refresh every file is open: from here on the
      // renderer needs no privilege, and must not run with it. The gate's
      // group needs it to be made, so it comes first, sandboxed alike.
      if (first) {
        if (idle_ms() > 0 && record_.fresh_reads) StartGate();
        if (auto s = EnterSandbox(state_dir_, RendererPolicy(state_dir_, record_), ProbeLandlock()); !s) {
          LOG_ERROR("%s: exiting", s.error().message().c_str());
          return End::kFailed;
        }
      }
      LogDeniedSyscalls();
      if (std::optional<End> end = WaitForNextTick()) return *end;
    }
  }

 private:
  bool Idle(int64_t now) const { return idle_ms() > 0 && now - last_read_ >= idle_ms(); }
  int64_t idle_ms() const { return record_.idle_ms; }
  bool gated() const { return gate_ && gate_->running(); }

  void StartGate() {
    written_ = refresher_.written_count();
    auto gate = ReadGate::Start(refresher_.Written());
    if (!gate) {
      LOG_WARN("no read gate (%s): files nobody reads are refreshed once per idle period",
               gate.error().message().c_str());
      return;
    }
    gate_.emplace(std::move(*gate));
  }

  void RefreshIfDue(bool first) {
    const int64_t now = MonotonicMs();
    // Reads since the last pass (also the one that woke an idle renderer).
    if (reads_.fd() >= 0 && reads_.Drain()) {
      if (Idle(now)) LOG_DEBUG("read after %lld ms quiet: refreshing every interval", static_cast<long long>(now - last_read_));
      last_read_ = now;
    }
    if (refresh_now_) {
      last_read_ = now;
    } else if (Idle(now) && gated()) {
      if (!armed_) {
        LOG_DEBUG("idle: files gated");
        gate_->Arm();
        armed_ = true;
      }
      if (now - last_refresh_ >= idle_ms()) {
        refresher_.SampleLoad();
        heartbeat_.Alive();
        last_refresh_ = now;
      }
      return;
    } else if (Idle(now) && now - last_refresh_ < idle_ms()) {
      return;
    } else if (Idle(now) && !quiet_logged_) {
      LOG_DEBUG("idle: refreshing once per idle period");
      quiet_logged_ = true;
    }
    if (!Idle(now)) quiet_logged_ = false;
    const RenderSummary done = refresher_.Refresh();
    last_refresh_ = now;
    heartbeat_.Beat(!done.rendered.empty(), done.problems);
    if (refresh_now_) {
      refresh_now_ = false;
      if (gate_) gate_->Done();
      LOG_DEBUG("refreshed for a read the gate holds (%lld ms)", static_cast<long long>(MonotonicMs() - now));
    }
    if (first && idle_ms() > 0) reads_.Watch(state_dir_, done.rendered);
    // A file written for the first time after the gate began is not
    // marked: reads of it would not wait, so give the gate up.
    if (gated() && refresher_.written_count() != written_) {
      LOG_WARN("a file was written for the first time: no read gate from now on");
      gate_.reset();
    }
  }

  // Sleeps until the next refresh is due. Idle: until the next idle
  // refresh (or sample), since a wakeup per interval with nothing to do
  // costs more than it seems; a read wakes us at once (through the gate,
  // or else the watch, so the reader's next read, top's next frame, is
  // current). While files are read, reads are only counted at each tick: a
  // wakeup per read would cost more than reads. Returns why the loop must
  // end, if it must.
  std::optional<End> WaitForNextTick() {
    next_ += record_.interval_ms;
    int64_t after = MonotonicMs();
    if (next_ < after) {  // overran: skip missed ticks, do not burst
      if (after - next_ >= record_.interval_ms) {
        LOG_DEBUG("a tick %lld ms late", static_cast<long long>(after - next_));
      }
      next_ = after;
    }
    const bool idle = Idle(after);
    // Idle from now on: sleep until the next idle refresh, but with a gate
    // only once it is armed (RefreshIfDue arms it on the tick that comes
    // at once): a sleep with the files neither gated nor watched would let
    // a read see content up to an idle period old.
    if (idle && gated() && !armed_) {
      next_ = after;
    } else if (idle) {
      next_ = std::max(next_, last_refresh_ + idle_ms());
    }
    const bool watch = idle && !gated() && reads_.fd() >= 0;
    struct pollfd fds[3] = {{init_pidfd_, POLLIN, 0}, {sigfd_, POLLIN, 0}, {-1, POLLIN, 0}};
    if (gated() && armed_) fds[2].fd = gate_->fd();
    else if (watch) fds[2].fd = reads_.fd();
    while (after < next_) {
      int n = ::poll(fds, 3, static_cast<int>(next_ - after));
      if (n < 0 && errno != EINTR) {
        LOG_ERROR("%s", Error::Sys("poll").message().c_str());
        return End::kFailed;
      }
      if (fds[0].revents != 0) {
        LOG_INFO("container init %d exited", record_.pid);
        return End::kInitExited;
      }
      if (fds[1].revents != 0) return End::kStopped;
      if (fds[2].revents != 0 && (fds[2].fd == reads_.fd() || TakeGateRequest())) {
        next_ = MonotonicMs();
        break;
      }
      after = MonotonicMs();
    }
    return std::nullopt;
  }

  // What the gate sent: true if the files must be refreshed now (a read
  // waits, or the gate is gone and the files may be an idle period old).
  bool TakeGateRequest() {
    switch (gate_->Take()) {
      case ReadGate::Request::kNone:
        return false;
      case ReadGate::Request::kGone:
        LOG_WARN("the read gate is gone: files nobody reads are refreshed once per idle period");
        gate_.reset();
        break;
      case ReadGate::Request::kRefresh:
        break;
    }
    armed_ = false;
    refresh_now_ = true;
    return true;
  }

  const std::string& state_dir_;
  const ContainerRecord& record_;
  Refresher refresher_;
  Heartbeat heartbeat_;
  const int init_pidfd_;
  const int sigfd_;
  ReadWatch reads_;
  std::optional<ReadGate> gate_;
  size_t written_ = 0;                // the files the gate marks
  bool armed_ = false;                // the gate marks them now
  bool refresh_now_ = false;          // a read waits for this refresh
  bool quiet_logged_ = false;         // idle without a gate, said once
  int64_t last_read_ = MonotonicMs();
  int64_t last_refresh_ = 0;
  int64_t next_ = MonotonicMs();
};

// The log goes to renderer.log in the state directory.
UniqueFd OpenRendererLog(const std::string& state_dir) {
  UniqueFd fd(::open((state_dir + "/" + kRendererLogFile).c_str(),
                     O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600));
  ConfigureLog({.fd = fd.get(), .syslog = false, .min = LevelFromEnv(), .tag = "prochook renderer"});
  return fd;
}

// A pidfd of the init, after checking it is still the process the hook saw
// (a recycled pid must not keep us alive); invalid if it is gone.
UniqueFd OpenInit(const ContainerRecord& record) {
  UniqueFd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, record.pid, 0)));
  auto start = ReadProcessStartTime(record.pid);
  if (!start || *start != record.pid_start) pidfd.reset();
  return pidfd;
}

// SIGTERM, SIGINT and SIGHUP arrive on a signalfd the loop polls.
UniqueFd StopSignals() {
  sigset_t mask;
  sigemptyset(&mask);
  for (int sig : {SIGTERM, SIGINT, SIGHUP}) sigaddset(&mask, sig);
  sigprocmask(SIG_BLOCK, &mask, nullptr);
  return UniqueFd(::signalfd(-1, &mask, SFD_CLOEXEC));
}

}  // namespace

RenderSummary RenderAllOnce(const std::string& state_dir, const ContainerRecord& record) {
  return Refresher(state_dir, record).Refresh();
}

int RunRenderer(const std::string& state_dir) {
  // First of all, leave the runtime's cgroup for prochook's own (see
  // README): done here, not by the hook, it costs the container's start
  // nothing. What it logs is kept until the log is configured just below
  // (common/log.h).
  JoinRendererCgroup();
  const UniqueFd log_fd = OpenRendererLog(state_dir);
  auto text = ReadFile(state_dir + "/" + kRecordFile);
  auto record = text ? ParseRecord(*text) : Result<ContainerRecord>(text.error());
  if (!record) {
    LOG_ERROR("cannot start: %s", record.error().message().c_str());
    return 1;
  }
  if (auto w = WriteRendererPid(state_dir, getpid()); !w) {
    LOG_ERROR("cannot start: %s", w.error().message().c_str());
    return 1;
  }
  const UniqueFd init = OpenInit(*record);
  const UniqueFd sigfd = StopSignals();
  if (init.valid()) {
    LOG_INFO("serving container %s (init %d) every %lld ms", record->id.c_str(), record->pid,
             static_cast<long long>(record->interval_ms));
    const ServeLoop::End end = ServeLoop(state_dir, *record, init.get(), sigfd.get()).Run();
    if (end != ServeLoop::End::kInitExited) {
      // Stopped or failed, not finished: the files stay mounted with their
      // last content and `prochook repair` (or the poststop hook) takes over.
      LOG_INFO("%s; leaving the state for repair or poststop",
               end == ServeLoop::End::kStopped ? "stopped by signal" : "failed");
      return end == ServeLoop::End::kStopped ? 0 : 1;
    }
  } else {
    LOG_INFO("container init %d is gone", record->pid);
  }
  if (auto r = RemoveStateDir(state_dir); !r) {
    LOG_ERROR("cleanup: %s", r.error().message().c_str());
    return 1;
  }
  return 0;
}

}  // namespace prochook
