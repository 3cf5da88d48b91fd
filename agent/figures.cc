#include "agent/figures.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sys/syscall.h>

#include "common/io.h"
#include "common/pidfd.h"
#include "common/log.h"
#include "state/record.h"
#include "state/state_dir.h"

namespace prochook {
namespace {

// How long an answer waits for an idle renderer's refresh (it takes a few
// milliseconds once woken).
constexpr int64_t kRefreshWaitMs = 300;

int64_t Ms(const struct timespec& t) { return static_cast<int64_t>(t.tv_sec) * 1000 + t.tv_nsec / 1000000; }

// The renderer touches its state directory at every refresh.
std::optional<int64_t> LastRefreshMs(const std::string& dir) {
  struct stat st;
  if (::stat(dir.c_str(), &st) != 0) return std::nullopt;
  return Ms(st.st_mtim);
}

int64_t NowMs() {
  struct timespec now;
  ::clock_gettime(CLOCK_REALTIME, &now);
  return Ms(now);
}

// An idle renderer (no refresh for longer than its interval) wakes on the
// open below; the files are read once it has refreshed, or kRefreshWaitMs.
void AwaitFreshFiles(const std::string& dir, const ContainerRecord& record) {
  auto last = LastRefreshMs(dir);
  if (!last || NowMs() - *last <= record.interval_ms + 100) return;
  UniqueFd wake(::open((dir + "/meminfo").c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  for (int64_t waited = 0; waited < kRefreshWaitMs; waited += 10) {
    struct timespec ten_ms = {0, 10 * 1000 * 1000};
    ::nanosleep(&ten_ms, nullptr);
    auto now = LastRefreshMs(dir);
    if (now && *now != *last) return;
  }
}

}  // namespace

bool FiguresReader::RendererAlive() {
  if (renderer_.valid() && PidfdAlive(renderer_.get())) return true;
  renderer_.reset();
  const std::optional<pid_t> pid = LiveRendererPid(dir_);
  if (!pid) return false;
  renderer_ = UniqueFd(static_cast<int>(::syscall(SYS_pidfd_open, *pid, 0)));
  // The pidfd names whoever held the pid after the check: check again.
  if (!renderer_.valid() || LiveRendererPid(dir_) != pid) {
    renderer_.reset();
    return false;
  }
  return true;
}

std::optional<SysinfoFigures> FiguresReader::Read() {
  if (!record_) {
    auto record = LoadRecord(dir_);
    if (!record) return std::nullopt;
    record_ = std::move(*record);
  }
  if (!RendererAlive()) return std::nullopt;
  AwaitFreshFiles(dir_, *record_);
  auto meminfo = files_.Read(dir_ + "/meminfo", 64 << 10);
  auto loadavg = files_.Read(dir_ + "/loadavg", 4096);
  if (!meminfo || !loadavg) return std::nullopt;
  auto figures = ParseSysinfoFigures(*meminfo, *loadavg);
  if (!figures) {
    LOG_WARN("sysinfo: %s; the call runs unchanged", figures.error().message().c_str());
    return std::nullopt;
  }
  return *figures;
}

}  // namespace prochook
