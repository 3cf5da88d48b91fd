// The read gate: the first read after a quiet spell waits for a refresh.
//
// An unread container is not refreshed (idle mode, renderer/loop.cc); what
// makes its next read current is a fanotify permission mark (FAN_OPEN_PERM
// and FAN_ACCESS_PERM) on each served file while it is idle. The kernel
// holds the reader's open() or read() until the mark's group answers; the
// group asks the renderer to refresh, and answers FAN_ALLOW once the
// refresh is done, or after kGateWaitMs whatever happened. The first event
// removes every mark, so later reads never wait: one read pays one
// refresh (a millisecond), and reads while the files are being read are
// never gated.
//
// The group lives in a process of its own, the gate, forked from the
// renderer, so that nothing the renderer does can hold a reader:
//  - the renderer hung (a cgroup read that never returns) or stopped
//    (SIGSTOP): the gate answers after kGateWaitMs, the reader gets the
//    last content, and the marks are gone until the renderer re-arms them;
//  - the renderer killed: its end of the pipe closes, the gate exits, and
//    closing the group allows every pending event (the kernel's rule);
//  - the gate killed: the same rule; the renderer sees its pipe close and
//    goes back to a refresh every idle period.
// The gate makes no call that can block on anything but its own pipe and
// group: no cgroup, proc or store read. A reader can wait on it only while
// it is stopped by hand (kill -STOP of the gate itself, or a freezer put on
// prochook's own cgroup); see README, "How it behaves".
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "common/fd.h"
#include "common/result.h"

namespace prochook {

// How long a reader may wait for the renderer's refresh.
inline constexpr int kGateWaitMs = 100;

class ReadGate {
 public:
  // What the gate asked for, read from its pipe.
  enum class Request { kNone, kRefresh, kGone };

  // Forks the gate for the served files, open as `files` (the gate marks
  // them through these descriptors, which it inherits). Needs
  // CAP_SYS_ADMIN (fanotify_init of a permission group): called before the
  // renderer's sandbox; the gate enters its own (EnterGateSandbox). An
  // error means no gate: the renderer refreshes every idle period instead.
  static Result<ReadGate> Start(const std::vector<int>& files);

  // Marks the files: the next read waits for a refresh. Never blocks.
  void Arm();
  // The refresh asked for is done: the waiting readers may go on.
  void Done();
  // Drains the pipe: kRefresh if a read came, kGone if the gate is gone or
  // could not mark the files (then it is closed).
  Request Take();

  int fd() const { return from_gate_.valid() ? from_gate_.get() : -1; }
  bool running() const { return from_gate_.valid(); }
  pid_t pid() const { return pid_; }

 private:
  ReadGate(UniqueFd to_gate, UniqueFd from_gate, pid_t pid)
      : to_gate_(std::move(to_gate)), from_gate_(std::move(from_gate)), pid_(pid) {}
  void Send(char what);

  UniqueFd to_gate_;
  UniqueFd from_gate_;
  pid_t pid_;
};

}  // namespace prochook
