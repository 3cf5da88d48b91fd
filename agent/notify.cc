#include "agent/notify.h"

#include <fcntl.h>
#include <linux/audit.h>
#include <linux/seccomp.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <vector>

#include "common/fd.h"
#include "common/io.h"
#include "common/log.h"
#include "common/text.h"
#include "common/timens.h"

namespace prochook {
namespace {

// sysinfo's number for each architecture whose struct the agent knows.
// x32 calls carry __X32_SYSCALL_BIT under AUDIT_ARCH_X86_64 and share
// x86-64's struct (its longs are 64-bit __kernel_long_t).
constexpr int kSysinfoX86_64 = 99;
constexpr int kSysinfoI386 = 116;
constexpr int kX32Bit = 0x40000000;

// Which layout to write, or nullopt for a call the agent does not answer.
std::optional<bool> Compat32(const struct seccomp_data& d) {
  if (d.arch == AUDIT_ARCH_X86_64 && (d.nr & ~kX32Bit) == kSysinfoX86_64) return false;
  if (d.arch == AUDIT_ARCH_I386 && d.nr == kSysinfoI386) return true;
#if defined(__NR_sysinfo) && !defined(__x86_64__)
  if (d.nr == __NR_sysinfo) return false;
#endif
  return std::nullopt;
}

// The kernel's uptime as the caller sees it: CLOCK_BOOTTIME in the host's
// clock (ours with our own time namespace's offset undone: a restarted
// agent may have been spawned in another's) shifted by the offset of the
// caller's (/proc/<pid>/timens_offsets, time_namespaces(7)).
int64_t CallerUptime(pid_t pid) {
  struct timespec now;
  ::clock_gettime(CLOCK_BOOTTIME, &now);
  const ClockOffset own = OwnBoottimeOffset();
  const ClockOffset caller = BoottimeOffset(pid);
  int64_t sec = now.tv_sec - own.sec + caller.sec;
  int64_t nsec = now.tv_nsec - own.nsec + caller.nsec;
  while (nsec >= 1000000000) sec += 1, nsec -= 1000000000;
  while (nsec < 0) sec -= 1, nsec += 1000000000;
  return SysinfoUptime(sec, nsec);
}

bool IdValid(int notify_fd, uint64_t id) {
  return ::ioctl(notify_fd, SECCOMP_IOCTL_NOTIF_ID_VALID, &id) == 0;
}

enum class Written {
  kDone,
  kFault,       // a pointer the caller cannot write either: EFAULT, as the kernel
  kUnopenable,  // its memory cannot be opened: the real call must run
  kGone,        // the caller died (its pid may be another process's now)
};

// Writes the answer into the caller's memory. The validity check comes
// after the open: a pid recycled before it fails the check.
Written WriteAnswer(int notify_fd, const struct seccomp_notif& req, const std::string& bytes) {
  UniqueFd mem(::open(("/proc/" + std::to_string(req.pid) + "/mem").c_str(), O_RDWR | O_CLOEXEC));
  const int open_errno = errno;
  if (!IdValid(notify_fd, req.id)) return Written::kGone;
  if (!mem.valid()) {
    errno = open_errno;
    LOG_WARN("sysinfo: %s; the call runs unchanged",
             Error::Sys("open /proc/" + std::to_string(req.pid) + "/mem").message().c_str());
    return Written::kUnopenable;
  }
  const uint64_t addr = req.data.args[0];
  if (::pwrite(mem.get(), bytes.data(), bytes.size(), static_cast<off_t>(addr)) !=
      static_cast<ssize_t>(bytes.size())) {
    return Written::kFault;
  }
  return Written::kDone;
}

Result<Served> Send(int notify_fd, struct seccomp_notif_resp* resp, Served what) {
  if (::ioctl(notify_fd, SECCOMP_IOCTL_NOTIF_SEND, resp) != 0) {
    // ENOENT: the caller was killed (or its call interrupted) meanwhile.
    if (errno == ENOENT) return Served::kGone;
    return Error::Sys("SECCOMP_IOCTL_NOTIF_SEND");
  }
  return what;
}

}  // namespace

Result<Served> ServeNotification(int notify_fd, const FiguresSource& figures) {
  // The kernel's struct sizes may grow beyond the headers' (NOTIF_SIZES).
  static struct seccomp_notif_sizes sizes = {};
  if (sizes.seccomp_notif == 0 && ::syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &sizes) != 0) {
    return Error::Sys("SECCOMP_GET_NOTIF_SIZES");
  }
  std::vector<char> req_buf(std::max<size_t>(sizes.seccomp_notif, sizeof(struct seccomp_notif)), 0);
  std::vector<char> resp_buf(std::max<size_t>(sizes.seccomp_notif_resp, sizeof(struct seccomp_notif_resp)), 0);
  auto* req = reinterpret_cast<struct seccomp_notif*>(req_buf.data());
  auto* resp = reinterpret_cast<struct seccomp_notif_resp*>(resp_buf.data());
  if (::ioctl(notify_fd, SECCOMP_IOCTL_NOTIF_RECV, req) != 0) {
    // ENOENT: the caller died between the poll and the receive.
    if (errno == ENOENT || errno == EINTR) return Served::kGone;
    return Error::Sys("SECCOMP_IOCTL_NOTIF_RECV");
  }
  resp->id = req->id;
  const std::optional<bool> compat = Compat32(req->data);
  std::optional<SysinfoFigures> f = compat ? figures() : std::nullopt;
  const Written written =
      f ? WriteAnswer(notify_fd, *req, EncodeSysinfo(*f, CallerUptime(req->pid), *compat)) : Written::kUnopenable;
  switch (written) {
    case Written::kGone:
      return Served::kGone;
    case Written::kUnopenable:
      // Every notification is answered: one left unanswered blocks its
      // caller for as long as the notify fd is open.
      resp->flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
      return Send(notify_fd, resp, Served::kContinued);
    case Written::kFault:
      resp->error = -EFAULT;
      return Send(notify_fd, resp, Served::kAnswered);
    case Written::kDone:
      break;
  }
  resp->val = 0;
  return Send(notify_fd, resp, Served::kAnswered);
}

}  // namespace prochook
