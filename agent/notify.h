// Seccomp user notification (seccomp_unotify(2)): receiving one trapped
// sysinfo(2) from a notify fd and answering it, either with a struct
// written into the caller's memory or with "continue" (the real call).
#pragma once

#include <sys/types.h>

#include <functional>
#include <optional>

#include "agent/answer.h"
#include "common/result.h"

namespace prochook {

enum class Served {
  kAnswered,   // the caller got the container's figures
  kContinued,  // no figures: the kernel ran the real call
  kGone,       // the caller died before the answer (nothing to do)
};

// The container's figures now, or nullopt when there are none to give.
using FiguresSource = std::function<std::optional<SysinfoFigures>()>;

// Receives one notification from notify_fd (readable) and answers it. The
// caller's memory is opened through /proc/<pid>/mem and the notification
// id checked valid after that open and before the write, so a pid reused
// by another process in between is never written to. An error means the
// notify fd itself failed.
Result<Served> ServeNotification(int notify_fd, const FiguresSource& figures);

}  // namespace prochook
