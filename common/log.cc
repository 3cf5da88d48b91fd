#include "common/log.h"

#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <initializer_list>

namespace prochook {
namespace {

LogConfig g_config;
char g_tag[128] = "prochook";

// Lines logged before the first ConfigureLog (see log.h): whole lines, the
// oldest dropped first when they no longer fit.
bool g_configured = false;
char g_pending[kPendingLogBytes];
size_t g_pending_used = 0;
unsigned g_pending_dropped = 0;

void KeepPending(const char* line, size_t n) {
  if (n > sizeof g_pending) return;
  while (g_pending_used + n > sizeof g_pending) {
    const char* end = static_cast<const char*>(memchr(g_pending, '\n', g_pending_used));
    const size_t first = end == nullptr ? g_pending_used : static_cast<size_t>(end - g_pending) + 1;
    memmove(g_pending, g_pending + first, g_pending_used - first);
    g_pending_used -= first;
    ++g_pending_dropped;
  }
  memcpy(g_pending + g_pending_used, line, n);
  g_pending_used += n;
}

// Writes the kept lines to the sinks that did not get them (all but
// stderr, where they went when logged).
void FlushPending(const LogConfig& config) {
  const char* p = g_pending;
  const char* end = g_pending + g_pending_used;
  if (config.fd >= 0 && config.fd != 2) (void)!write(config.fd, p, g_pending_used);
  if (config.file_fd >= 0) (void)!write(config.file_fd, p, g_pending_used);
  if (config.syslog) {
    while (p < end) {
      const char* nl = static_cast<const char*>(memchr(p, '\n', static_cast<size_t>(end - p)));
      const int len = static_cast<int>((nl == nullptr ? end : nl) - p);
      syslog(LOG_NOTICE, "%.*s", len, p);
      p += len + 1;
    }
  }
  g_pending_used = 0;
}

const char* LevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug: return "debug";
    case LogLevel::kInfo: return "info";
    case LogLevel::kWarn: return "warn";
    case LogLevel::kError: return "error";
  }
  return "?";
}

int SyslogPriority(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug: return LOG_DEBUG;
    case LogLevel::kInfo: return LOG_INFO;
    case LogLevel::kWarn: return LOG_WARNING;
    case LogLevel::kError: return LOG_ERR;
  }
  return LOG_INFO;
}

}  // namespace

LogLevel LevelFromEnv() {
  const char* v = getenv("PROCHOOK_LOG_LEVEL");
  if (v == nullptr) return LogLevel::kInfo;
  for (LogLevel l : {LogLevel::kDebug, LogLevel::kInfo, LogLevel::kWarn, LogLevel::kError}) {
    if (strcmp(v, LevelName(l)) == 0) return l;
  }
  return LogLevel::kInfo;
}

void ConfigureLog(const LogConfig& config) {
  g_config = config;
  snprintf(g_tag, sizeof g_tag, "%s", config.tag);
  g_config.tag = g_tag;
  if (config.syslog) openlog("prochook", LOG_PID | LOG_NDELAY, LOG_DAEMON);
  if (g_configured) return;
  g_configured = true;
  FlushPending(g_config);
  if (g_pending_dropped > 0) LOG_WARN("%u earlier log line(s) did not fit and were dropped", g_pending_dropped);
}

void Log(LogLevel level, const char* fmt, ...) {
  if (level < g_config.min) return;
  const int saved_errno = errno;
  char msg[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);

  if (g_config.fd >= 0 || g_config.file_fd >= 0 || !g_configured) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    char line[1280];
    int n = snprintf(line, sizeof line, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %s[%d] %s: %s\n",
                     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                     tm.tm_sec, ts.tv_nsec / 1000000, g_config.tag, getpid(), LevelName(level), msg);
    if (n >= static_cast<int>(sizeof line)) {  // truncated: still one line
      n = sizeof line - 1;
      line[n - 1] = '\n';
    }
    if (n > 0 && g_config.fd >= 0) (void)!write(g_config.fd, line, static_cast<size_t>(n));
    if (n > 0 && g_config.file_fd >= 0) (void)!write(g_config.file_fd, line, static_cast<size_t>(n));
    if (n > 0 && !g_configured) KeepPending(line, static_cast<size_t>(n));
  }
  if (g_config.syslog) syslog(SyslogPriority(level), "%s: %s", g_config.tag, msg);
  errno = saved_errno;
}

}  // namespace prochook
