#include "common/timens.h"

#include <fcntl.h>
#include <sched.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

#include "common/fd.h"
#include "common/io.h"
#include "common/text.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

namespace prochook {
namespace {

std::string OffsetsPath(pid_t pid) {
  return pid == 0 ? "/proc/self/timens_offsets" : "/proc/" + std::to_string(pid) + "/timens_offsets";
}

std::optional<int64_t> ParseI64(std::string_view s) {
  const bool negative = !s.empty() && s[0] == '-';
  auto v = ParseU64(negative ? s.substr(1) : s);
  if (!v || *v > static_cast<uint64_t>(INT64_MAX)) return std::nullopt;
  return negative ? -static_cast<int64_t>(*v) : static_cast<int64_t>(*v);
}

std::optional<ino_t> NamespaceInode(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return std::nullopt;
  return st.st_ino;
}

// Whether this process's clock has a monotonic offset (prochook never sets
// one, but a process's namespace may have it).
bool HasMonotonicOffset() {
  auto text = ReadFile("/proc/self/timens_offsets", 4096);
  if (!text) return false;
  for (std::string_view line : SplitLines(*text)) {
    auto f = SplitFields(line);
    if (f.size() == 3 && (f[0] == "monotonic" || f[0] == "1") && (f[1] != "0" || f[2] != "0")) return true;
  }
  return false;
}

// This process's own boottime offset, read once: it changes only through
// the functions below that move the process, which forget it.
std::optional<ClockOffset> g_own_offset;

// unshare(CLONE_NEWTIME), the new namespace's offsets written (allowed
// only before any process is in it), then this process moved into it
// (single-threaded: setns(2)), and so its children. Not by execve alone:
// on older kernels (Debian 12's 6.1) execve does not move a process, and
// one whose clock is not its children's cannot start threads (EINVAL: Go's
// runtime in runc aborts).
Result<> EnterNewTimeNamespace(const std::string& offsets) {
  if (::unshare(CLONE_NEWTIME) != 0) return Error::Sys("unshare(CLONE_NEWTIME)");
  g_own_offset.reset();
  UniqueFd file(::open("/proc/self/timens_offsets", O_WRONLY | O_CLOEXEC));
  if (!file.valid()) return Error::Sys("open /proc/self/timens_offsets");
  TRY(WriteAll(file.get(), offsets), "write /proc/self/timens_offsets");
  UniqueFd ns(::open("/proc/self/ns/time_for_children", O_RDONLY | O_CLOEXEC));
  if (!ns.valid()) return Error::Sys("open /proc/self/ns/time_for_children");
  if (::setns(ns.get(), CLONE_NEWTIME) != 0) return Error::Sys("entering the new time namespace");
  return Ok{};
}

}  // namespace

ClockOffset OwnBoottimeOffset() {
  if (!g_own_offset) g_own_offset = BoottimeOffset(0);
  return *g_own_offset;
}

ClockOffset ParseBoottimeOffset(std::string_view text) {
  for (std::string_view line : SplitLines(text)) {
    auto f = SplitFields(line);
    if (f.size() != 3 || (f[0] != "boottime" && f[0] != "7")) continue;
    auto sec = ParseI64(f[1]);
    auto nsec = ParseI64(f[2]);
    if (!sec || !nsec || *nsec < 0 || *nsec >= 1000000000) return {};
    return {*sec, *nsec};
  }
  return {};
}

ClockOffset BoottimeOffset(pid_t pid) {
  auto text = ReadFile(OffsetsPath(pid), 4096);
  return text ? ParseBoottimeOffset(*text) : ClockOffset{};
}

int64_t OffsetTicks(ClockOffset offset, int64_t ticks_per_second) {
  return offset.sec * ticks_per_second + offset.nsec / (1000000000 / ticks_per_second);
}

Result<bool> JoinTimeNamespace(int pidfd, pid_t pid) {
  auto target = NamespaceInode("/proc/" + std::to_string(pid) + "/ns/time");
  auto own = NamespaceInode("/proc/self/ns/time");
  if (!target) return Error::Sys("time namespace of process " + std::to_string(pid));
  if (own && *own == *target) return false;
  if (::setns(pidfd, CLONE_NEWTIME) != 0) {
    return Error::Sys("joining the time namespace of process " + std::to_string(pid));
  }
  g_own_offset.reset();
  return true;
}

Result<bool> EnterHostClock() {
  if (OwnBoottimeOffset() == ClockOffset{} && !HasMonotonicOffset()) return false;
  TRY(EnterNewTimeNamespace("monotonic 0 0\nboottime 0 0\n"), "a time namespace with the host's clock");
  return true;
}

Result<ClockOffset> UnshareTimeNamespaceFromNow() {
  // Offsets are against the host's clock: a process whose own clock is
  // shifted (nested) undoes its own offset.
  const ClockOffset own = OwnBoottimeOffset();
  struct timespec now;
  ::clock_gettime(CLOCK_BOOTTIME, &now);
  int64_t host_ns = (static_cast<int64_t>(now.tv_sec) - own.sec) * 1000000000 + now.tv_nsec - own.nsec;
  const ClockOffset offset{-(host_ns / 1000000000), 0};
  TRY(EnterNewTimeNamespace("boottime " + std::to_string(offset.sec) + " 0\n"), "the container's clock");
  return offset;
}

}  // namespace prochook
