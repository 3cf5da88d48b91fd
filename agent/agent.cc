#include "agent/agent.h"

#include <fcntl.h>
#include <linux/capability.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <vector>

#include "agent/figures.h"
#include "agent/fd_passing.h"
#include "agent/handoff.h"
#include "agent/holder.h"
#include "agent/notify.h"
#include "agent/start.h"
#include "common/clock.h"
#include "common/fd.h"
#include "common/log.h"
#include "common/pidfd.h"
#include "renderer/own_cgroup.h"
#include "renderer/sandbox.h"
#include "state/record.h"
#include "state/state_dir.h"

namespace prochook {
namespace {

constexpr int kTickMs = 1000;
// A directory made for a container whose runtime never handed over a
// notify fd (it failed before, or the hook declined the container):
// given up after this long, unless it became a served container's.
constexpr int64_t kHandoffWaitMs = 10 * 60 * 1000;

// The least privilege that still writes a caller's memory: opening
// /proc/<pid>/mem for writing takes CAP_SYS_PTRACE (ptrace_may_access) and,
// for a caller of another uid, CAP_DAC_OVERRIDE (the file is its owner's,
// mode 0600). Not dumpable: no one can ptrace the agent or read its
// memory through /proc.
Result<> DropPrivileges() {
  TRY(DropCapabilities({CAP_SYS_PTRACE, CAP_DAC_OVERRIDE}), "agent");
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return Error::Sys("no_new_privs");
  if (::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) return Error::Sys("PR_SET_DUMPABLE");
  return Ok{};
}

// Connects to the container's holder (starting one if there is none) and
// takes back what it holds for an agent that died: its listening socket
// (*listener) and its notify fds (*restored).
Result<UniqueFd> AttachHolder(const std::string& dir, UniqueFd* listener, std::vector<UniqueFd>* restored) {
  const std::string path = dir + "/" + kHolderSocketFile;
  auto conn = ConnectSeqpacket(path);
  if (!conn) {
    TRY(StartHolder(dir), "holder");
    conn = ConnectSeqpacket(path);
  }
  if (!conn) return conn.error().Wrap("holder");
  for (;;) {
    std::vector<UniqueFd> fds;
    TRY_ASSIGN(char tag, ReceiveFds(conn->get(), &fds), "holder");
    if (tag == kTagEnd) return std::move(*conn);
    if (tag == kTagListener && fds.size() == 1) {
      *listener = std::move(fds[0]);
    } else if (tag == kTagFd) {
      for (UniqueFd& fd : fds) restored->push_back(std::move(fd));
    } else {
      return Error::Msg("holder: unexpected message");
    }
  }
}

class Agent {
 public:
  Agent(std::string dir, UniqueFd dir_fd) : dir_(std::move(dir)), dir_fd_(std::move(dir_fd)), started_ms_(MonotonicMs()) {}

  // The listening socket and the notify fds the holder kept for this
  // agent's predecessor, if any; else a new socket, given to the holder.
  Result<> Attach() {
    std::vector<UniqueFd> restored;
    auto holder = AttachHolder(dir_, &listen_, &restored);
    if (!holder) LOG_WARN("%s: the notify fds have no second holder", holder.error().message().c_str());
    if (!listen_.valid()) {
      const std::string path = dir_ + "/" + kAgentSocketFile;
      ::unlink(path.c_str());  // a dead agent's whose holder is gone too
      TRY_ASSIGN(listen_, ListenAt(path), "listening");
      if (holder && !SendFds(holder->get(), kTagListener, {listen_.get()})) holder = Error::Msg("holder gone");
    }
    if (holder) holder_ = std::move(*holder);
    if (restored.empty()) return Ok{};
    LOG_INFO("took over %zu notify fd(s) from the holder", restored.size());
    for (UniqueFd& fd : restored) notify_.push_back(std::move(fd));
    had_handoff_ = true;
    if (auto record = LoadRecord(dir_); record && InitAlive(*record)) {
      if (auto pinned = PinProcess(record->pid)) init_ = std::move(pinned->pidfd);
    }
    return Ok{};
  }

  void Run() {
    while (!Done()) {
      // The holder's connection (-1: none) is never readable: it only
      // hangs up, when the holder died.
      std::vector<struct pollfd> fds = {{listen_.get(), POLLIN, 0}, {holder_.get(), 0, 0}};
      for (const UniqueFd& n : notify_) fds.push_back({n.get(), POLLIN, 0});
      if (::poll(fds.data(), fds.size(), kTickMs) < 0 && errno != EINTR) {
        LOG_ERROR("%s", Error::Sys("poll").message().c_str());
        return;
      }
      if (fds[1].revents != 0) {
        LOG_WARN("the holder of the notify fds is gone: starting another");
        Reattach();
      }
      // Back to front: a hung-up fd is erased in place.
      for (size_t i = fds.size() - 1; i >= 2; --i) Serve(i - 2, fds[i].revents);
      if (fds[0].revents & POLLIN) Accept();
    }
  }

  void Finish() {
    // Through the directory we opened: a container made again with this id
    // and bundle has a new directory at the same path, and its agent's
    // socket is not ours to remove.
    ::unlinkat(dir_fd_.get(), kAgentSocketFile, 0);
    if (DirGone() || LiveRendererPid(dir_)) return;
    if (auto r = RemoveStateDir(dir_); !r) LOG_WARN("cleanup: %s", r.error().message().c_str());
  }

 private:
  void Accept() {
    auto handoff = AcceptHandoff(listen_.get());
    if (!handoff) {
      LOG_WARN("handoff: %s", handoff.error().message().c_str());
      return;
    }
    if (!init_.valid() && handoff->init_pid > 0) {
      if (auto pinned = PinProcess(handoff->init_pid)) init_ = std::move(pinned->pidfd);
    }
    // The init's fd, then one per exec: only the first is worth a line.
    if (!had_handoff_) LOG_INFO("serving sysinfo for container init %d", handoff->init_pid);
    else LOG_DEBUG("serving sysinfo for an exec (%zu notify fds)", notify_.size() + 1);
    notify_.push_back(std::move(handoff->notify_fd));
    had_handoff_ = true;
    if (!holder_.valid() || !SendFds(holder_.get(), kTagFd, {notify_.back().get()})) Reattach();
  }

  // A new holder, given every notify fd this agent has.
  void Reattach() {
    holder_.reset();
    UniqueFd stale_listener;
    std::vector<UniqueFd> stale;
    auto holder = AttachHolder(dir_, &stale_listener, &stale);
    if (holder && !SendFds(holder->get(), kTagListener, {listen_.get()})) holder = Error::Msg("holder gone");
    std::vector<int> fds;
    for (const UniqueFd& n : notify_) fds.push_back(n.get());
    for (size_t i = 0; holder && i < fds.size(); i += kMaxFdsPerMessage) {
      const std::vector<int> batch(fds.begin() + static_cast<long>(i),
                                   fds.begin() + static_cast<long>(std::min(fds.size(), i + kMaxFdsPerMessage)));
      if (auto sent = SendFds(holder->get(), kTagFd, batch); !sent) holder = sent.error();
    }
    if (!holder) {
      LOG_WARN("%s: the notify fds have no second holder", holder.error().message().c_str());
      return;
    }
    holder_ = std::move(*holder);
  }

  void Serve(size_t i, short revents) {
    if (revents & POLLIN) {
      auto served = ServeNotification(notify_[i].get(), [&] { return figures_.Read(); });
      if (served) {
        ++count_[static_cast<int>(*served)];
        return;
      }
      LOG_WARN("notify fd: %s", served.error().message().c_str());
      revents |= POLLERR;
    }
    // Every process of this filter has exited.
    if (revents & (POLLHUP | POLLERR | POLLNVAL)) notify_.erase(notify_.begin() + static_cast<long>(i));
  }

  bool DirGone() const {
    struct stat st;
    return ::fstat(dir_fd_.get(), &st) != 0 || st.st_nlink == 0;
  }

  bool InitGone() const { return !init_.valid() || !PidfdAlive(init_.get()); }

  bool Done() const {
    if (!notify_.empty()) return false;
    if (had_handoff_) {
      if (!InitGone()) return false;
      LOG_INFO("the container has exited (answered %llu, continued %llu, gone %llu)",
               static_cast<unsigned long long>(count_[0]), static_cast<unsigned long long>(count_[1]),
               static_cast<unsigned long long>(count_[2]));
      return true;
    }
    if (DirGone()) {
      LOG_INFO("state directory removed before any handoff");
      return true;
    }
    if (auto record = LoadRecord(dir_)) {
      if (InitAlive(*record)) return false;
      LOG_INFO("the container's init %d exited without handing over a notify fd", record->pid);
      return true;
    }
    if (MonotonicMs() - started_ms_ < kHandoffWaitMs) return false;
    LOG_WARN("no handoff and no container after %lld s: giving up", static_cast<long long>(kHandoffWaitMs / 1000));
    return true;
  }

  const std::string dir_;
  FiguresReader figures_{dir_};
  const UniqueFd dir_fd_;
  UniqueFd listen_;  // where the runtime hands notify fds over
  const int64_t started_ms_;
  std::vector<UniqueFd> notify_;
  UniqueFd holder_;  // connection to the second holder of notify_
  UniqueFd init_;
  bool had_handoff_ = false;
  unsigned long long count_[3] = {0, 0, 0};  // by Served
};

// The log is the container's renderer.log (one write per line, O_APPEND:
// the renderer's lines and the agent's never mix).
UniqueFd OpenLog(const std::string& state_dir) {
  UniqueFd fd(::open((state_dir + "/" + kRendererLogFile).c_str(),
                     O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600));
  ConfigureLog({.fd = fd.get(), .syslog = false, .min = LevelFromEnv(), .tag = "prochook agent"});
  return fd;
}

}  // namespace

int RunAgent(const std::string& state_dir, int ready_fd) {
  // Out of the runtime's (the engine's shim's) cgroup, as the renderer.
  JoinRendererCgroup();
  const UniqueFd log_fd = OpenLog(state_dir);
  UniqueFd dir_fd(::open(state_dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!dir_fd.valid()) {
    LOG_ERROR("cannot start: %s", Error::Sys("open " + state_dir).message().c_str());
    return 1;
  }
  // Privileges first: the holder the agent starts inherits none.
  auto pid_file = WritePidFile(state_dir, kAgentPidFile, ::getpid());
  auto dropped = pid_file ? DropPrivileges() : pid_file;
  Agent agent(state_dir, std::move(dir_fd));
  auto attached = dropped ? agent.Attach() : dropped;
  if (!attached) {
    LOG_ERROR("cannot start: %s", attached.error().message().c_str());
    return 1;
  }
  LOG_INFO("listening on %s", kAgentSocketFile);
  SignalReady(ready_fd);
  agent.Run();
  agent.Finish();
  return 0;
}

}  // namespace prochook
