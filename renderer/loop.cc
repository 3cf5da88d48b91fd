#include "renderer/loop.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <poll.h>
#include <signal.h>
#include <sys/inotify.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <map>

#include "common/io.h"
#include "common/log.h"
#include "hook/record.h"
#include "hook/state_dir.h"
#include "renderer/files.h"
#include "renderer/own_cgroup.h"
#include "renderer/sandbox.h"
#include "renderer/writer.h"

namespace prochook {
namespace {

int64_t NowMs() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

// Renders every file into its store. A file that fails keeps its last good
// content; the error is logged once per change of message.
class Refresher {
 public:
  Refresher(std::string state_dir, const ContainerRecord& record)
      : dir_(std::move(state_dir)), renderer_(record) {
    if (auto previous = ReadFile(dir_ + "/stat"); previous) renderer_.Resume(*previous);
  }

  // Files that failed are left out of the summary (and keep any earlier
  // content); the rest are written.
  RenderSummary Refresh() {
    RenderSummary summary;
    for (RenderedFile& file : renderer_.Render(NowMs())) {
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

}  // namespace

RenderSummary RenderAllOnce(const std::string& state_dir, const ContainerRecord& record) {
  return Refresher(state_dir, record).Refresh();
}

int RunRenderer(const std::string& state_dir) {
  // First of all, leave the runtime's cgroup for prochook's own (see
  // README): done here, not by the hook, it costs the container's start
  // nothing.
  JoinRendererCgroup();
  UniqueFd log_fd(::open((state_dir + "/" + kRendererLogFile).c_str(),
                         O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600));
  ConfigureLog({.fd = log_fd.get(), .syslog = false, .min = LevelFromEnv(),
                .tag = "prochook renderer"});

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

  // Watch the init through a pidfd, after checking it is still the process
  // the hook saw: a recycled pid must not keep us alive.
  UniqueFd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, record->pid, 0)));
  auto start = ReadProcessStartTime(record->pid);
  const bool alive = pidfd.valid() && start && *start == record->pid_start;

  sigset_t mask;
  sigemptyset(&mask);
  for (int sig : {SIGTERM, SIGINT, SIGHUP}) sigaddset(&mask, sig);
  sigprocmask(SIG_BLOCK, &mask, nullptr);
  UniqueFd sigfd(::signalfd(-1, &mask, SFD_CLOEXEC));

  if (alive) {
    LOG_INFO("serving container %s (init %d) every %lld ms", record->id.c_str(), record->pid,
             static_cast<long long>(record->interval_ms));
    Refresher refresher(state_dir, *record);
    // The state directory's mtime says when the last refresh ran (for
    // `prochook ps`): one futimens per refresh, no extra file.
    UniqueFd dir_fd(::open(state_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    ReadWatch reads;
    const int64_t idle_ms = record->idle_ms;
    int64_t last_read = NowMs(), last_refresh = 0;
    int64_t next = NowMs();
    for (bool first = true;; first = false) {
      const int64_t now = NowMs();
      // Reads since the last pass (also the one that woke an idle renderer).
      if (reads.fd() >= 0 && reads.Drain()) last_read = now;
      // Idle: nobody read the files for idle_ms. Then one refresh every
      // idle_ms bounds their age; the next read wakes us at once.
      bool idle = idle_ms > 0 && now - last_read >= idle_ms;
      if (!idle || now - last_refresh >= idle_ms) {
        const RenderSummary done = refresher.Refresh();
        last_refresh = now;
        if (dir_fd.valid()) ::futimens(dir_fd.get(), nullptr);
        if (first && idle_ms > 0) reads.Watch(state_dir, done.rendered);
      }
      // After the first refresh every file is open: from here on the
      // renderer needs no privilege.
      if (first) {
        if (auto s = EnterSandbox(); !s) LOG_WARN("running without the sandbox: %s", s.error().message().c_str());
      }
      next += record->interval_ms;
      int64_t after = NowMs();
      if (next < after) next = after;  // overran: skip missed ticks, do not burst
      // Idle: sleep until the next idle refresh, a wakeup per interval with
      // nothing to do costs more than it seems. Only then is the watch
      // polled, so a read wakes us at once (and the reader's next read, top's
      // next frame, is current); while files are read, reads are only
      // counted at each tick: a wakeup per read would cost more than reads.
      idle = idle_ms > 0 && after - last_read >= idle_ms;
      if (idle) next = std::max(next, last_refresh + idle_ms);
      const bool watch = idle && reads.fd() >= 0;
      struct pollfd fds[3] = {{pidfd.get(), POLLIN, 0}, {sigfd.get(), POLLIN, 0}, {reads.fd(), POLLIN, 0}};
      bool woken_by_read = false, failed = false;
      while (!woken_by_read && !failed && after < next) {
        int n = ::poll(fds, watch ? 3 : 2, static_cast<int>(next - after));
        if (n < 0 && errno != EINTR) {
          LOG_ERROR("%s", Error::Sys("poll").message().c_str());
          failed = true;
          break;
        }
        if (fds[0].revents != 0 || fds[1].revents != 0) break;
        woken_by_read = watch && fds[2].revents != 0;
        after = NowMs();
      }
      if (failed) break;
      if (fds[0].revents != 0) {
        LOG_INFO("container init %d exited", record->pid);
        break;
      }
      if (fds[1].revents != 0) {
        // Stopped, not finished: the files stay mounted with their last
        // content and `prochook repair` (or the poststop hook) takes over.
        LOG_INFO("stopped by signal; leaving the state for repair or poststop");
        return 0;
      }
      if (woken_by_read) next = NowMs();
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
