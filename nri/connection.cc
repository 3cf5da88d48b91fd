#include "nri/connection.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>

#include "common/io.h"
#include "common/text.h"

namespace prochook::nri {

Result<UniqueFd> DialNri(const std::string& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof(addr.sun_path)) return Error::Msg(path + ": socket path too long");
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return Error::Sys("socket");
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    return Error::Sys("connecting to " + path);
  }
  return fd;
}

Result<UniqueFd> InheritedSocket(std::string_view env_value) {
  const auto fd = ParseU64(env_value);
  const std::string what = "NRI_PLUGIN_SOCKET=" + std::string(env_value);
  if (!fd || *fd > 1 << 20) return Error::Msg(what + ": not an fd number");
  struct stat st;
  if (::fstat(int(*fd), &st) != 0) return Error::Sys(what);
  if (!S_ISSOCK(st.st_mode)) return Error::Msg(what + ": not a socket");
  // Nothing the plugin runs should inherit the runtime's connection.
  ::fcntl(int(*fd), F_SETFD, FD_CLOEXEC);
  return UniqueFd(int(*fd));
}

namespace {

// A runtime that exits may reset the connection rather than close it, and
// may do so while the plugin writes.
bool IsPeerGone(int err) { return err == ECONNRESET || err == EPIPE; }

}  // namespace

Result<Ending> RunSession(int fd, Session& session) {
  const auto ended = [&] { return session.service().shut_down() ? Ending::kShutdown : Ending::kClosed; };
  TRY_ASSIGN(std::string out, session.Start(), "starting");
  char buf[64 << 10];
  for (;;) {
    if (auto sent = WriteAll(fd, out); !sent) {
      if (IsPeerGone(sent.error().err())) return ended();
      return sent.error().Wrap("answering the runtime");
    }
    ssize_t n;
    do {
      n = ::read(fd, buf, sizeof(buf));
    } while (n < 0 && errno == EINTR);
    if (n == 0 || (n < 0 && IsPeerGone(errno))) return ended();
    if (n < 0) return Error::Sys("reading the NRI socket");
    TRY_ASSIGN(out, session.Feed(std::string_view(buf, size_t(n))), "NRI protocol");
  }
}

}  // namespace prochook::nri
