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
}

void Log(LogLevel level, const char* fmt, ...) {
  if (level < g_config.min) return;
  const int saved_errno = errno;
  char msg[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);

  if (g_config.fd >= 0 || g_config.file_fd >= 0) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    char line[1280];
    int n = snprintf(line, sizeof line, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %s[%d] %s: %s\n",
                     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                     tm.tm_sec, ts.tv_nsec / 1000000, g_config.tag, getpid(), LevelName(level), msg);
    if (n > static_cast<int>(sizeof line)) n = sizeof line;
    if (n > 0 && g_config.fd >= 0) (void)!write(g_config.fd, line, static_cast<size_t>(n));
    if (n > 0 && g_config.file_fd >= 0) (void)!write(g_config.file_fd, line, static_cast<size_t>(n));
  }
  if (g_config.syslog) syslog(SyslogPriority(level), "%s: %s", g_config.tag, msg);
  errno = saved_errno;
}

}  // namespace prochook
