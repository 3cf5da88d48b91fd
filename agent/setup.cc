#include "agent/setup.h"

#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "agent/start.h"
#include "common/io.h"
#include "common/log.h"
#include "oci/json.h"
#include "oci/seccomp_edit.h"
#include "state/record.h"
#include "state/state_dir.h"
#include "state/store.h"

namespace prochook {
namespace {

// runc and crun give hooks the bundle as an absolute path with symlinks
// resolved (they chdir into it and ask for the working directory): the
// state directory is named by that, so the hook finds the agent's.
std::string AbsoluteBundle(const std::string& bundle) {
  char buf[PATH_MAX];
  return ::realpath(bundle.c_str(), buf) != nullptr ? buf : bundle;
}

Result<> WriteConfig(const std::string& path, const std::string& text) {
  struct stat st;
  const mode_t mode = ::stat(path.c_str(), &st) == 0 ? (st.st_mode & 07777) : 0644;
  return WriteFileAtomic(path, text, mode);
}

// A config given again (the same bundle) may hold the trap of an earlier
// edit: without an agent now, it must go, or the runtime fails to connect.
Result<> Untrap(const std::string& run_dir, const std::string& path, const std::string& text) {
  TRY_ASSIGN(std::optional<std::string> untrapped, RemoveSysinfoNotify(text, run_dir), path);
  if (!untrapped) return Ok{};
  LOG_INFO("removing an earlier sysinfo trap from %s", path.c_str());
  TRY(WriteConfig(path, *untrapped), "rewrite " + path);
  return Ok{};
}

// The agent, listening in its state directory, and the config trapping
// sysinfo for it; or an error with neither left behind.
Result<> StartAndTrap(const std::string& run_dir, const std::string& dir, const std::string& path,
                      const std::string& trapped) {
  auto agent = PrepareAgent(run_dir, dir);
  if (!agent) return agent.error();
  if (auto w = WriteConfig(path, trapped); !w) {
    KillStarted(agent->get());
    (void)RemoveStateDir(dir);
    return w.error().Wrap("rewrite " + path);
  }
  return Ok{};
}

Result<> Apply(const std::string& run_dir, const std::string& id, const std::string& bundle) {
  TRY(ValidateContainerId(id), "container id");
  const std::string abs_bundle = AbsoluteBundle(bundle);
  const std::string path = abs_bundle + "/config.json";
  TRY_ASSIGN(std::string text, ReadFile(path, kMaxDocumentBytes + 1), "read " + path);
  const std::string dir = StateDirPath(run_dir, id, abs_bundle);
  const std::string socket = dir + "/" + kAgentSocketFile;
  TRY_ASSIGN(SysinfoConfig edited, AddSysinfoNotify(text, socket, run_dir), path);
  if (edited.edit == SysinfoEdit::kDeclined) LOG_INFO("sysinfo left to the kernel: %s", edited.reason.c_str());
  if (edited.edit != SysinfoEdit::kAdded) return Untrap(run_dir, path, text);
  if (auto r = StartAndTrap(run_dir, dir, path, edited.text); !r) {
    LOG_WARN("%s; sysinfo left to the kernel", r.error().message().c_str());
    return Untrap(run_dir, path, text);
  }
  LOG_INFO("sysinfo answered by the agent in %s", dir.c_str());
  return Ok{};
}

}  // namespace

Result<UniqueFd> PrepareAgent(const std::string& run_dir, const std::string& dir, const std::string& program) {
  const std::string socket = dir + "/" + kAgentSocketFile;
  if (socket.size() >= sizeof(sockaddr_un::sun_path)) {
    return Error::Msg("the socket path " + socket + " is too long for a unix socket (a shorter id fits)");
  }
  // The store first: it is made only in an empty run directory.
  EnsureStore(run_dir);
  struct stat st;
  if (::stat(dir.c_str(), &st) == 0) {
    return Error::Msg("state directory " + dir + " exists (another container's with this id)");
  }
  TRY(CreateStateDir(run_dir, dir), "state directory");
  auto agent = StartAgent(dir, program);
  if (!agent) (void)RemoveStateDir(dir);
  return agent;
}

void SetUpSysinfo(const std::string& run_dir, const std::string& id, const std::string& bundle) {
  if (auto r = Apply(run_dir, id, bundle); !r) LOG_WARN("sysinfo: %s", r.error().message().c_str());
}

}  // namespace prochook
