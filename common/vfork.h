// Runs a function in a child process that shares the caller's memory, the
// way posix_spawn does (clone with CLONE_VM | CLONE_VFORK): the caller is
// suspended until the child exits or execs, and no page table is copied.
// A fork of the hook costs milliseconds on virtual machines with expensive
// MMU operations; this costs tens of microseconds.
//
// What the child shares, and so what fn may do:
//  - Memory: it reads and writes the caller's variables (that is how
//    results come back) and may use the heap. Safe only because the hook
//    is single-threaded: the one thread that could hold malloc's lock or
//    change memory under the child is the caller, suspended in clone. A
//    process with threads must not call RunShared.
//  - TLS, so errno: the child's system calls overwrite the caller's errno
//    (RunShared gives the caller its errno back when clone succeeds).
//  - Not stdio: FILE buffers are the caller's; text the child prints lands
//    in them. fn ends in _exit (RunShared calls it), never exit(), so no
//    atexit handler or stream flush runs twice.
// What it does not share: the fd table and fs state (no CLONE_FILES,
// CLONE_FS: setns(CLONE_NEWNS), chdir and close affect only the child) and
// signal handlers (no CLONE_SIGHAND). As in glibc's posix_spawn, all
// signals are blocked in the caller around clone; the child resets every
// handler the caller installed to SIG_DFL (ignored signals stay ignored)
// before it takes the caller's signal mask, so no handler of the caller
// ever runs in the child, on the caller's stack variables and globals.
// (glibc's two internal signals for threads are out of sigaction's reach;
// a single-threaded hook never installs them.)
// The child runs on its own 256 KiB stack (one kept for the process's
// life, a fresh one for a child's own RunShared) with an inaccessible guard
// region below it: an overflow is a SIGSEGV in the child, never a write
// into memory the caller uses.
#pragma once

#include <functional>

#include <sys/types.h>

namespace prochook {

// Runs fn in the child and returns its pid once the child has exited or
// exec'd (-1 with errno set if clone failed). The child exits with fn's
// return value. The caller reaps it.
pid_t RunShared(const std::function<int()>& fn);

}  // namespace prochook
