// A tiny logger. One line per call, written with a single write(2) from a
// stack buffer, so it is safe between fork and exec and never interleaves.
// The hook logs to stderr (the runtime captures it), to syslog and to
// <run dir>/hook.log; the renderer logs to a file in its state directory.
// PROCHOOK_LOG_LEVEL=debug|info|warn|error sets the level (default info).
//
// Until the first ConfigureLog, lines go to stderr and are also kept (the
// last kPendingLogBytes of them); that ConfigureLog writes them to its log
// file, its fd (if not stderr) and syslog. So what a command logs before
// it knows where its log is (the hook making its store, which must exist
// before hook.log is opened in it; the renderer joining its cgroup before
// opening renderer.log) reaches the log.
#pragma once

#include <cstdarg>

namespace prochook {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };

struct LogConfig {
  int fd = 2;                    // where lines go; -1 for nowhere
  int file_fd = -1;              // also append them here (a log file); -1 for none
  bool syslog = false;           // also send to syslog(3)
  LogLevel min = LogLevel::kInfo;
  const char* tag = "prochook";  // e.g. "prochook hook <id>"
};

inline constexpr unsigned kPendingLogBytes = 8192;

// The level named by $PROCHOOK_LOG_LEVEL, else kInfo.
LogLevel LevelFromEnv();

// Replaces the process-wide log configuration (call before forking). The
// first call also writes the lines logged until then to the new sinks.
void ConfigureLog(const LogConfig& config);

void Log(LogLevel level, const char* fmt, ...) __attribute__((format(printf, 2, 3)));

#define LOG_DEBUG(...) ::prochook::Log(::prochook::LogLevel::kDebug, __VA_ARGS__)
#define LOG_INFO(...) ::prochook::Log(::prochook::LogLevel::kInfo, __VA_ARGS__)
#define LOG_WARN(...) ::prochook::Log(::prochook::LogLevel::kWarn, __VA_ARGS__)
#define LOG_ERROR(...) ::prochook::Log(::prochook::LogLevel::kError, __VA_ARGS__)

}  // namespace prochook
