// Landlock (Documentation/userspace-api/landlock.rst): which files the
// renderer may touch, enforced by the kernel whatever its uid. Seccomp
// alone cannot say this: it sees an openat or an unlink but not the path,
// and a uid-0 process without capabilities still writes and removes files
// uid 0 owns.
//
// The rights a kernel knows grow with its Landlock ABI (1: files, 2: refer,
// 3: truncate, 4: TCP, 5: device ioctls, 6: signal and abstract-socket
// scopes, 7: audit flags); a ruleset handles every right the running
// kernel's ABI knows and grants only those the policy names, so anything
// newer the kernel can refuse is refused.
#pragma once

#include <string>
#include <vector>

#include "common/result.h"

namespace prochook {

// The running kernel's Landlock ABI version, 0 when it has none, with why.
struct LandlockSupport {
  int abi = 0;
  std::string missing;  // when abi == 0: "not built into this kernel", ...
};
LandlockSupport ProbeLandlock();

// Paths and what may be done beneath them (a directory's rights hold for
// everything under it); paths that do not exist are skipped. Everything
// not granted is refused: exec, device nodes, sockets, FIFOs, symlinks,
// cross-directory renames, device ioctls, TCP (ABI 4), and (ABI 6)
// signals to and abstract unix sockets of processes outside the domain.
struct LandlockPolicy {
  std::vector<std::string> read;        // read files, list directories
  std::vector<std::string> own;         // also write, truncate, create files and
                                        // directories, remove entries
  std::vector<std::string> remove_dir;  // remove empty directories, nothing else
};

// Restricts the calling thread (and what it later forks) to the policy,
// for good. Needs no_new_privs (or CAP_SYS_ADMIN). abi >= 1.
Result<> ApplyLandlock(const LandlockPolicy& policy, int abi);

}  // namespace prochook
