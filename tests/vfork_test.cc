// RunShared: a child that shares the caller's memory must never run the
// caller's signal handlers, must not overflow into the caller's memory, and
// must leave the caller's signal mask as it was.
#include <doctest/doctest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <fstream>
#include <sstream>
#include <string>

#include "common/vfork.h"

using namespace prochook;

namespace {

volatile sig_atomic_t g_handled = 0;
void OnUsr1(int) { g_handled = 1; }

// A signal mask as /proc/<pid>/status shows it (SigBlk), as bits.
uint64_t BlockedSignals(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("SigBlk:", 0) == 0) return std::stoull(line.substr(7), nullptr, 16);
  }
  return 0;
}

uint64_t Bit(int sig) { return uint64_t{1} << (sig - 1); }

int Wait(pid_t pid) {
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  return status;
}

// Restores a signal's disposition and the mask on scope exit.
struct SignalState {
  int sig;
  struct sigaction old_action;
  sigset_t old_mask;
  explicit SignalState(int s) : sig(s) {
    ::sigaction(sig, nullptr, &old_action);
    ::sigprocmask(SIG_SETMASK, nullptr, &old_mask);
  }
  ~SignalState() {
    ::sigaction(sig, &old_action, nullptr);
    ::sigprocmask(SIG_SETMASK, &old_mask, nullptr);
  }
};

}  // namespace

TEST_CASE("RunShared: the caller's signal handler never runs in the child") {
  SignalState saved(SIGUSR1);
  struct sigaction sa = {};
  sa.sa_handler = OnUsr1;
  REQUIRE(::sigaction(SIGUSR1, &sa, nullptr) == 0);
  g_handled = 0;
  // The child signals itself: the caller's handler would set the flag in
  // the memory they share and the child would exit 0.
  const pid_t child = RunShared([] {
    ::kill(::getpid(), SIGUSR1);
    return 0;
  });
  REQUIRE(child > 0);
  const int status = Wait(child);
  CHECK(g_handled == 0);
  CHECK(WIFSIGNALED(status));
  CHECK(WTERMSIG(status) == SIGUSR1);  // the default action
  // Still the caller's handler, in the caller.
  ::raise(SIGUSR1);
  CHECK(g_handled == 1);
}

TEST_CASE("RunShared: signals are blocked in the caller around clone, and its mask is restored") {
  SignalState saved(SIGUSR2);
  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGUSR2);
  REQUIRE(::sigprocmask(SIG_SETMASK, &mask, nullptr) == 0);
  const pid_t caller = ::getpid();
  uint64_t caller_during = 0, child_mask = 0;
  const pid_t child = RunShared([&] {
    // The caller is suspended in clone: its mask as the kernel sees it.
    caller_during = BlockedSignals(caller);
    child_mask = BlockedSignals(::getpid());
    return 0;
  });
  REQUIRE(child > 0);
  CHECK(WIFEXITED(Wait(child)));
  // Everything the kernel lets a process block (not SIGKILL, SIGSTOP).
  CHECK(caller_during == (~uint64_t{0} & ~Bit(SIGKILL) & ~Bit(SIGSTOP)));
  // The child runs fn with the caller's mask, as posix_spawn's children do.
  CHECK(child_mask == Bit(SIGUSR2));
  CHECK(BlockedSignals(caller) == Bit(SIGUSR2));
}

TEST_CASE("RunShared: the child's stack has an inaccessible guard below it") {
  bool guarded = false;
  std::string found;
  const pid_t child = RunShared([&] {
    // The mapping holding this frame, and the one that ends where it begins.
    volatile char local = 0;
    const auto here = reinterpret_cast<uintptr_t>(&local);
    std::ifstream maps("/proc/self/maps");
    std::string line, below_perms;
    uintptr_t prev_end = 0;
    while (std::getline(maps, line)) {
      std::istringstream f(line);
      std::string range, perms;
      f >> range >> perms;
      const uintptr_t lo = std::stoull(range.substr(0, range.find('-')), nullptr, 16);
      const uintptr_t hi = std::stoull(range.substr(range.find('-') + 1), nullptr, 16);
      if (lo <= here && here < hi) {
        found = line;
        guarded = prev_end == lo && below_perms == "---p";
        break;
      }
      prev_end = hi;
      below_perms = perms;
    }
    return 0;
  });
  REQUIRE(child > 0);
  CHECK(WIFEXITED(Wait(child)));
  INFO("the child's stack: " << found);
  CHECK_FALSE(found.empty());
  CHECK(guarded);
}

TEST_CASE("RunShared: the caller keeps its errno; a child's exit code comes back") {
  errno = EINTR;
  const pid_t child = RunShared([] {
    errno = ENOENT;
    return 7;
  });
  CHECK(errno == EINTR);
  REQUIRE(child > 0);
  const int status = Wait(child);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 7);
}

TEST_CASE("RunShared: a child may call RunShared (SpawnRenderer's double fork), each on its own stack") {
  int inner_value = 0;
  pid_t inner = -1;
  const pid_t outer = RunShared([&] {
    volatile char outer_frame[512] = {1};
    inner = RunShared([&] {
      inner_value = 42;
      return 3;
    });
    int status = 0;
    if (inner <= 0 || ::waitpid(inner, &status, 0) != inner) return 1;
    // The inner child did not run over this frame.
    return outer_frame[0] == 1 && WIFEXITED(status) && WEXITSTATUS(status) == 3 ? 0 : 2;
  });
  REQUIRE(outer > 0);
  const int status = Wait(outer);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  CHECK(inner_value == 42);
  CHECK(inner > 0);
}
