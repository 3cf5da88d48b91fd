// Runs a function in a child process that shares the caller's memory, the
// way posix_spawn does (clone with CLONE_VM | CLONE_VFORK): the caller is
// suspended until the child exits or execs, so the child may use the heap
// and the caller's variables as if it were a function call, and no page
// table is copied. A fork of the hook costs milliseconds on virtual
// machines with expensive MMU operations; this costs tens of microseconds.
//
// Without CLONE_FILES and CLONE_FS the child has its own copy of the fd
// table and its own fs state, so setns(CLONE_NEWNS) works in it. It ends
// with _exit (or exec), never returning into the caller's frames.
#pragma once

#include <functional>

#include <sys/types.h>

namespace prochook {

// Runs fn in the child and returns its pid once the child has exited or
// exec'd (-1 with errno set if clone failed). The child exits with fn's
// return value. The caller reaps it.
pid_t RunShared(const std::function<int()>& fn);

}  // namespace prochook
