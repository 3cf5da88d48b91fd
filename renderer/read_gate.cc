#include "renderer/read_gate.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/fanotify.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <string>

#include "common/clock.h"
#include "common/log.h"
#include "renderer/sandbox.h"

namespace prochook {
namespace {

// Bytes on the pipes. Renderer to gate: arm, done. Gate to renderer:
// refresh now, or failed (it could not mark every file, so it is of no use).
constexpr char kArm = 'A', kDone = 'D', kRefresh = 'R', kFailed = 'F';
#ifndef FAN_PRE_ACCESS
#define FAN_PRE_ACCESS 0x00100000  // Linux 6.14 (Debian 12's headers predate it)
#endif
// What a gated file waits on: its opening, and each read. Since Linux
// 6.14 a read on a descriptor opened before any pre-content watcher
// existed raises FAN_ACCESS_PERM no more, only FAN_PRE_ACCESS does (for
// descriptors opened while one existed): both are asked for where the
// kernel knows the second.
constexpr uint64_t kMask = FAN_OPEN_PERM | FAN_ACCESS_PERM;
// Events answered in one batch: each holds an open file until answered, and
// a group that cannot open one more denies the read (EMFILE), so keep few.
constexpr size_t kBatch = 32;

// The gate's side: the group, its pipes and the marks.
class Gate {
 public:
  Gate(int group, int from_renderer, int to_renderer, std::vector<int> files, uint64_t mask)
      : group_(group), in_(from_renderer), out_(to_renderer), files_(std::move(files)), mask_(mask) {}

  [[noreturn]] void Serve() {
    Pin();
    for (;;) {
      struct pollfd fds[2] = {{in_, POLLIN, 0}, {group_, POLLIN, 0}};
      if (::poll(fds, 2, -1) < 0 && errno != EINTR) break;
      if (fds[0].revents != 0 && !TakeFromRenderer()) break;
      if (fds[1].revents != 0) Answer();
    }
    // The renderer is gone: closing the group allows whatever is pending.
    ::_exit(0);
  }

 private:
  // Reads what the renderer sent; false once it is gone.
  bool TakeFromRenderer(bool* done = nullptr) {
    char buf[64];
    const ssize_t n = ::read(in_, buf, sizeof buf);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) return false;
    for (ssize_t i = 0; i < n; ++i) {
      if (buf[i] == kArm) Arm();
      if (buf[i] == kDone && done != nullptr) *done = true;
    }
    return true;
  }

  void Arm() {
    for (int fd : files_) {
      const bool ok = (ignored_ == 0 || Mark(FAN_MARK_REMOVE | FAN_MARK_IGNORE, ignored_, fd)) &&
                      Mark(FAN_MARK_ADD, mask_, fd);
      if (!ok) return GiveUp(Error::Sys("fanotify_mark").message());
    }
    armed_ = true;
  }

  // For good: the marks go, and the renderer falls back to a refresh per
  // idle period.
  void GiveUp(const std::string& why) {
    LOG_ERROR("read gate: %s; the files are no longer gated, those nobody reads are refreshed once per idle period",
              why.c_str());
    Disarm();
    (void)!::write(out_, &kFailed, 1);
  }

  void Disarm() {
    ::fanotify_mark(group_, FAN_MARK_FLUSH, 0, -1, nullptr);
    armed_ = false;
    Pin();
  }

  // Linux 6.14+ decides when a file is opened whether reads through that
  // descriptor raise events: only if its inode was then watched for
  // pre-content events. A descriptor that top or `free -s` opened while the
  // container was being read (unmarked) would never be gated. So while the
  // files are not gated, each keeps a mark whose read events are all
  // ignored (the inode counts as watched; a read is not held), and one
  // event that never comes (FAN_OPEN_EXEC_PERM: the files are not
  // executable, and mounted noexec) so that the mark stays where the
  // kernel has no ignore for them.
  void Pin() {
    for (int fd : files_) {
      const bool ok = Mark(FAN_MARK_ADD, FAN_OPEN_EXEC_PERM, fd) &&
                      (ignored_ == 0 || Mark(FAN_MARK_ADD | FAN_MARK_IGNORE_SURV, ignored_, fd));
      if (!ok) {
        LOG_WARN("read gate: %s; a descriptor kept open may not be gated",
                 Error::Sys("fanotify_mark").message().c_str());
        return;
      }
    }
  }

  bool Mark(unsigned flags, uint64_t mask, int fd) { return ::fanotify_mark(group_, flags, mask, fd, nullptr) == 0; }

  // Reads the pending events (at most kBatch) into fds_; false if none.
  bool Collect() {
    alignas(struct fanotify_event_metadata) char buf[kBatch * sizeof(struct fanotify_event_metadata)];
    const size_t room = (kBatch - fds_.size()) * sizeof(struct fanotify_event_metadata);
    if (room == 0) return false;
    const ssize_t n = ::read(group_, buf, room);
    if (n < 0 && errno != EAGAIN && errno != EINTR && armed_) {
      // The kernel could not open a reader's file for us, and has denied
      // that read: never again.
      GiveUp(Error::Sys("reading fanotify events").message() + " (a read was refused)");
    }
    if (n <= 0) return false;
    auto* e = reinterpret_cast<struct fanotify_event_metadata*>(buf);
    for (ssize_t len = n; FAN_EVENT_OK(e, len); e = FAN_EVENT_NEXT(e, len)) {
      if (e->vers == FANOTIFY_METADATA_VERSION && e->fd >= 0) fds_.push_back(e->fd);
    }
    return true;
  }

  // One or more reads wait. If armed, the first of a quiet spell: take the
  // marks away (no later read waits), ask for a refresh, and wait for it
  // for at most kGateWaitMs, gathering readers that come meanwhile. Then
  // let them all go on.
  void Answer() {
    if (!Collect()) return;
    if (armed_) {
      Disarm();
      (void)!::write(out_, &kRefresh, 1);
      const int64_t deadline = MonotonicMs() + kGateWaitMs;
      bool done = false;
      for (int64_t left = kGateWaitMs; !done && left > 0; left = deadline - MonotonicMs()) {
        struct pollfd fds[2] = {{in_, POLLIN, 0}, {group_, POLLIN, 0}};
        if (::poll(fds, fds_.size() < kBatch ? 2 : 1, static_cast<int>(left)) < 0 && errno != EINTR) break;
        if (fds[0].revents != 0 && !TakeFromRenderer(&done)) break;  // gone: answer, then exit
        if (fds[1].revents != 0) Collect();
      }
      if (!done) {
        LOG_WARN("read gate: no refresh within %d ms; the reader got the last content", kGateWaitMs);
      }
    }
    for (int fd : fds_) {
      const struct fanotify_response allow = {fd, FAN_ALLOW};
      (void)!::write(group_, &allow, sizeof allow);
      ::close(fd);
    }
    fds_.clear();
  }

  const int group_, in_, out_;
  const std::vector<int> files_;
  const uint64_t mask_;
  // The read events ignored while not gated: where the kernel knows
  // FAN_PRE_ACCESS (Pin), else none.
  const uint64_t ignored_ = mask_ & FAN_PRE_ACCESS ? FAN_PRE_ACCESS | FAN_ACCESS_PERM : 0;
  bool armed_ = false;
  std::vector<int> fds_;
};

}  // namespace

Result<ReadGate> ReadGate::Start(const std::vector<int>& files) {
  // A pre-content group: the files opened while it exists get pre-content
  // events (FAN_PRE_ACCESS), the only read events of Linux 6.14+ for a
  // descriptor kept open; older kernels treat it as a content group.
  UniqueFd group(::fanotify_init(FAN_CLASS_PRE_CONTENT | FAN_CLOEXEC | FAN_NONBLOCK, O_RDONLY | O_LARGEFILE));
  if (!group.valid()) return Error::Sys("fanotify_init");
  uint64_t mask = kMask;
  if (!files.empty() && ::fanotify_mark(group.get(), FAN_MARK_ADD, FAN_PRE_ACCESS, files[0], nullptr) == 0) {
    ::fanotify_mark(group.get(), FAN_MARK_FLUSH, 0, -1, nullptr);
    mask |= FAN_PRE_ACCESS;
  }
  int to[2], from[2];
  if (::pipe2(to, O_CLOEXEC) != 0) return Error::Sys("pipe2");
  UniqueFd to_read(to[0]), to_write(to[1]);
  if (::pipe2(from, O_CLOEXEC | O_NONBLOCK) != 0) return Error::Sys("pipe2");
  UniqueFd from_read(from[0]), from_write(from[1]);
  // Writing to a gate that died must not kill the renderer, and a gate
  // that exits is reaped by the kernel (the renderer has no other child).
  ::signal(SIGPIPE, SIG_IGN);
  ::signal(SIGCHLD, SIG_IGN);
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) return Error::Sys("fork");
  if (pid == 0) {
    ::prctl(PR_SET_NAME, "prochook-gate");
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(0);
    // The renderer's stop signals come on its signalfd; here they end the
    // gate like any signal would (closing the group allows the readers).
    sigset_t all;
    sigfillset(&all);
    ::sigprocmask(SIG_UNBLOCK, &all, nullptr);
    to_write.reset();
    from_read.reset();
    if (auto s = EnterGateSandbox(); !s) {
      LOG_ERROR("read gate: %s; exiting", s.error().message().c_str());
      ::_exit(1);
    }
    Gate(group.get(), to_read.get(), from_write.get(), files, mask).Serve();
  }
  ::fcntl(to_write.get(), F_SETFL, O_NONBLOCK);
  return ReadGate(std::move(to_write), std::move(from_read), pid);
}

void ReadGate::Send(char what) {
  if (to_gate_.valid()) (void)!::write(to_gate_.get(), &what, 1);
}

void ReadGate::Arm() { Send(kArm); }
void ReadGate::Done() { Send(kDone); }

ReadGate::Request ReadGate::Take() {
  Request got = Request::kNone;
  char buf[64];
  for (;;) {
    const ssize_t n = ::read(from_gate_.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) return got;
    bool failed = n <= 0;
    for (ssize_t i = 0; i < n; ++i) {
      if (buf[i] == kRefresh) got = Request::kRefresh;
      if (buf[i] == kFailed) failed = true;
    }
    if (failed) {
      to_gate_.reset();  // the gate exits on this
      from_gate_.reset();
      return Request::kGone;
    }
  }
}

}  // namespace prochook
