#include "agent/handoff.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <vector>

#include <nlohmann/json.hpp>

#include "agent/fd_passing.h"
#include "oci/json.h"

namespace prochook {
namespace {

constexpr size_t kMaxMessage = 1 << 20;
constexpr int kPeerTimeoutMs = 2000;
// Connections wait here while no agent accepts (one died, repair has not
// run): one per exec started meanwhile.
constexpr int kBacklog = 256;

}  // namespace

Result<UniqueFd> ListenAt(const std::string& path, int type) {
  struct sockaddr_un addr = {};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path) return Error::Msg("socket path too long: " + path);
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  UniqueFd fd(::socket(AF_UNIX, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!fd.valid()) return Error::Sys("socket");
  // Only root may connect: the directory is 0700 too.
  const mode_t old = ::umask(0177);
  const int bound = ::bind(fd.get(), reinterpret_cast<struct sockaddr*>(&addr), sizeof addr);
  ::umask(old);
  if (bound != 0) return Error::Sys("bind " + path);
  if (::listen(fd.get(), kBacklog) != 0) return Error::Sys("listen " + path);
  return fd;
}

Result<Handoff> AcceptHandoff(int listen_fd) {
  UniqueFd conn(::accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC));
  if (!conn.valid()) return Error::Sys("accept");
  std::string message;
  UniqueFd notify;
  std::vector<char> buf(64 << 10);
  alignas(struct cmsghdr) char control[CMSG_SPACE(sizeof(int) * 4)];
  for (;;) {
    struct pollfd p = {conn.get(), POLLIN, 0};
    if (::poll(&p, 1, kPeerTimeoutMs) != 1) return Error::Msg("the runtime's message did not come in time");
    struct iovec iov = {buf.data(), buf.size()};
    struct msghdr msg = {};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    const ssize_t n = ::recvmsg(conn.get(), &msg, MSG_CMSG_CLOEXEC);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Error::Sys("recvmsg");
    // The first fd is the notify fd; any others are closed.
    for (UniqueFd& fd : TakeRights(&msg)) {
      if (!notify.valid()) notify = std::move(fd);
    }
    if (n == 0) break;
    message.append(buf.data(), static_cast<size_t>(n));
    if (message.size() > kMaxMessage) return Error::Msg("the runtime's message is too long");
    // runc and crun send one document and close; a complete one suffices.
    if (nlohmann::json::accept(message)) break;
  }
  if (!notify.valid()) return Error::Msg("the runtime sent no fd");
  TRY_ASSIGN(pid_t init, ParseHandoffMessage(message), "the runtime's message");
  return Handoff{std::move(notify), init};
}

Result<pid_t> ParseHandoffMessage(std::string_view json) {
  TRY_ASSIGN(nlohmann::json doc, ParseJsonObject(json, "container process state"), "handoff");
  auto fds = doc.find("fds");
  if (fds == doc.end() || !fds->is_array() || fds->empty() || (*fds)[0] != "seccompFd") {
    return Error::Msg("fds does not name a seccompFd");
  }
  auto state = doc.find("state");
  if (state == doc.end() || !state->is_object()) return 0;
  TRY_ASSIGN(std::optional<int64_t> pid, IntField(*state, "pid"), "state");
  if (!pid || *pid <= 0 || *pid > 0x3fffffff) return 0;
  return static_cast<pid_t>(*pid);
}

}  // namespace prochook
