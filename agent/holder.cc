#include "agent/holder.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <vector>

#include "agent/fd_passing.h"
#include "agent/handoff.h"
#include "agent/start.h"
#include "common/clock.h"
#include "common/fd.h"
#include "common/log.h"
#include "state/record.h"

namespace prochook {
namespace {

constexpr int kTickMs = 1000;
// The agent that started the holder connects at once; a holder nobody
// connected to within this long ends.
constexpr int64_t kFirstAgentMs = 30000;


class Holder {
 public:
  Holder(UniqueFd listen_fd, int dir_fd) : listen_(std::move(listen_fd)), dir_fd_(dir_fd) {}

  void Run() {
    do {
      std::vector<struct pollfd> fds = {{listen_.get(), POLLIN, 0}, {agent_.get(), POLLIN, 0}};
      // No events asked: a notify fd reports POLLHUP once its filter has no
      // process left, and the holder never receives its notifications.
      for (const UniqueFd& h : held_) fds.push_back({h.get(), 0, 0});
      if (::poll(fds.data(), fds.size(), kTickMs) < 0 && errno != EINTR) return;
      for (size_t i = fds.size() - 1; i >= 2; --i) {
        if (fds[i].revents & (POLLHUP | POLLERR | POLLNVAL)) held_.erase(held_.begin() + static_cast<long>(i - 2));
      }
      if (fds[1].revents != 0) FromAgent();
      if (fds[0].revents & POLLIN) NewAgent();
    } while (agent_.valid() || !held_.empty() || (agent_listener_.valid() && !DirGone()) ||
             (!had_agent_ && MonotonicMs() - started_ms_ < kFirstAgentMs));
  }

 private:
  void NewAgent() {
    UniqueFd conn(::accept4(listen_.get(), nullptr, nullptr, SOCK_CLOEXEC));
    if (!conn.valid()) return;
    if (agent_listener_.valid() && !SendFds(conn.get(), kTagListener, {agent_listener_.get()})) return;
    for (size_t i = 0; i < held_.size(); i += kMaxFdsPerMessage) {
      std::vector<int> batch;
      for (size_t j = i; j < held_.size() && j < i + kMaxFdsPerMessage; ++j) batch.push_back(held_[j].get());
      if (auto r = SendFds(conn.get(), kTagFd, batch); !r) {
        LOG_WARN("holder: %s", r.error().message().c_str());
        return;
      }
    }
    if (SendFds(conn.get(), kTagEnd, {})) {
      if (agent_.valid()) LOG_INFO("holder: a new agent took over %zu notify fd(s)", held_.size());
      agent_ = std::move(conn);
      had_agent_ = true;
    }
  }

  void FromAgent() {
    std::vector<UniqueFd> fds;
    auto tag = ReceiveFds(agent_.get(), &fds);
    if (!tag || *tag == '\0') {
      agent_.reset();  // gone: what it gave stays held
      return;
    }
    if (*tag == kTagListener && fds.size() == 1) {
      agent_listener_ = std::move(fds[0]);
      return;
    }
    for (UniqueFd& fd : fds) held_.push_back(std::move(fd));
  }

  bool DirGone() const {
    struct stat st;
    return ::fstat(dir_fd_, &st) != 0 || st.st_nlink == 0;
  }

  const UniqueFd listen_;
  const int dir_fd_;
  UniqueFd agent_;
  UniqueFd agent_listener_;  // the agent's socket
  std::vector<UniqueFd> held_;
  bool had_agent_ = false;
  const int64_t started_ms_ = MonotonicMs();
};

}  // namespace

int RunHolder(const std::string& state_dir, int ready_fd) {
  UniqueFd log_fd(::open((state_dir + "/" + kRendererLogFile).c_str(),
                         O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600));
  ConfigureLog({.fd = log_fd.get(), .syslog = false, .min = LevelFromEnv(), .tag = "prochook holder"});
  const std::string path = state_dir + "/" + kHolderSocketFile;
  ::unlink(path.c_str());  // a dead holder's
  UniqueFd dir_fd(::open(state_dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  auto listen_fd = dir_fd.valid() ? ListenAt(path, SOCK_SEQPACKET) : Error::Sys("open " + state_dir);
  if (!listen_fd) {
    LOG_ERROR("cannot start: %s", listen_fd.error().message().c_str());
    return 1;
  }
  SignalReady(ready_fd);
  Holder holder(std::move(*listen_fd), dir_fd.get());
  holder.Run();
  // Through the directory: the same path may be a new container's by now.
  ::unlinkat(dir_fd.get(), kHolderSocketFile, 0);
  return 0;
}

}  // namespace prochook
