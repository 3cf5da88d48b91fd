#include "agent/figures.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/io.h"
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

std::optional<SysinfoFigures> ReadFigures(const std::string& dir) {
  auto record = LoadRecord(dir);
  if (!record || !LiveRendererPid(dir)) return std::nullopt;
  AwaitFreshFiles(dir, *record);
  auto meminfo = ReadFile(dir + "/meminfo", 64 << 10);
  auto loadavg = ReadFile(dir + "/loadavg", 4096);
  if (!meminfo || !loadavg) return std::nullopt;
  auto figures = ParseSysinfoFigures(*meminfo, *loadavg);
  if (!figures) {
    LOG_WARN("sysinfo: %s; the call runs unchanged", figures.error().message().c_str());
    return std::nullopt;
  }
  return *figures;
}

}  // namespace prochook
