#include "oci/runtime_wrapper.h"

#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstring>

#include "common/io.h"
#include "agent/setup.h"
#include "common/fd.h"
#include "common/log.h"
#include "common/proc.h"
#include "common/timens.h"
#include "oci/config.h"
#include "oci/config_edit.h"
#include "oci/json.h"
#include "oci/options.h"
#include "oci/runtime_args.h"
#include "oci/runtime_state.h"
#include "oci/timens_plan.h"
#include "state/record.h"
#include "state/store.h"

namespace prochook {
namespace {

// The real runtime's path: PATH search for a bare name, like execvp.
std::string FindProgram(const std::string& name) {
  if (name.find('/') != std::string::npos) return name;
  const char* path = getenv("PATH");
  std::string dirs = path != nullptr ? path : "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  size_t start = 0;
  while (start <= dirs.size()) {
    size_t end = dirs.find(':', start);
    if (end == std::string::npos) end = dirs.size();
    std::string candidate = dirs.substr(start, end - start) + "/" + name;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
    start = end + 1;
  }
  return "";
}

std::string RealPath(const std::string& path) {
  char buf[PATH_MAX];
  return ::realpath(path.c_str(), buf) != nullptr ? buf : path;
}

// Adds the hooks to <bundle>/config.json in place (atomically, same mode).
Result<HookEdit> EditBundle(const std::string& bundle, const std::string& self) {
  const std::string path = bundle + "/config.json";
  TRY_ASSIGN(std::string text, ReadFile(path, kMaxDocumentBytes + 1), "read " + path);
  TRY_ASSIGN(EditedConfig edited, AddProchookHooks(text, self), path);
  if (edited.edit != HookEdit::kAdded) return edited.edit;
  struct stat st;
  const mode_t mode = ::stat(path.c_str(), &st) == 0 ? (st.st_mode & 07777) : 0644;
  TRY(WriteFileAtomic(path, edited.text, mode), "rewrite " + path);
  return edited.edit;
}

// create and run: a clock of its own for the container (oci/timens_plan.h),
// entered by this process for the runtime it execs next, and so for every
// process the runtime starts. After the agent is spawned: the agent keeps
// the host's clock. Fail-open: the container keeps the host's clock.
void SetUpClock(const std::string& bundle) {
  auto config = LoadConfig(bundle);
  if (!config) {
    LOG_WARN("%s; the container keeps the host's clock", config.error().message().c_str());
    return;
  }
  const TimeNamespacePlan plan = PlanTimeNamespace(*config, ParseOptions(config->annotations));
  switch (plan.kind) {
    case TimeNamespacePlan::Kind::kNone:
      LOG_INFO("the host's clock: %s", plan.why.c_str());
      return;
    case TimeNamespacePlan::Kind::kNew:
      if (auto offset = UnshareTimeNamespaceFromNow(); !offset) {
        LOG_WARN("%s; the container keeps the host's clock", offset.error().message().c_str());
      } else {
        LOG_INFO("a clock of its own (boottime offset %lld s): %s", static_cast<long long>(offset->sec),
                 plan.why.c_str());
      }
      return;
    case TimeNamespacePlan::Kind::kJoin: {
      UniqueFd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, plan.join_pid, 0)));
      auto joined = pidfd.valid() ? JoinTimeNamespace(pidfd.get(), plan.join_pid)
                                  : Result<bool>(Error::Sys("pidfd_open " + std::to_string(plan.join_pid)));
      if (!joined) {
        LOG_WARN("%s; the container keeps the host's clock", joined.error().message().c_str());
      } else {
        LOG_INFO("the clock of process %d: %s", plan.join_pid, plan.why.c_str());
      }
      return;
    }
  }
}

// Every other command about a container runs in that container's clock:
// the runtime compares the init's start time it recorded (in that clock)
// with /proc/<pid>/stat as it reads it, and outside it would take the
// container for stopped. The container is the first operand the runtime
// has state for; it is joined only while its recorded init still runs.
void JoinContainerClock(const std::string& program, const RuntimeCommand& cmd) {
  if (cmd.command == "list" || cmd.command == "spec" || cmd.command == "features") return;
  const std::string root = cmd.root.value_or(DefaultRuntimeRoot(program));
  for (const std::string& operand : cmd.operands) {
    const std::optional<RuntimeInit> init = FindRuntimeInit(root, operand);
    if (!init) continue;
    UniqueFd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, init->pid, 0)));
    if (!pidfd.valid()) return;  // exited: the runtime sees it stopped in any clock
    if (init->start) {
      auto host = ReadProcessStartTime(init->pid);
      static const int64_t ticks = ::sysconf(_SC_CLK_TCK);
      const uint64_t in_its_clock =
          host ? *host + static_cast<uint64_t>(OffsetTicks(BoottimeOffset(init->pid), ticks)) : 0;
      if (!host || in_its_clock != *init->start) return;  // the pid is another process's now
    }
    if (auto joined = JoinTimeNamespace(pidfd.get(), init->pid); !joined) {
      LOG_WARN("%s: the runtime may see container %s stopped", joined.error().message().c_str(),
               operand.c_str());
    } else if (*joined) {
      LOG_DEBUG("%s %s in the clock of its init %d", cmd.command.c_str(), operand.c_str(), init->pid);
    }
    return;
  }
}


// Where the wrapper's decisions are kept: stderr and syslog as for any
// command, and for an operator the hooks' log, <run dir>/hook.log, when it
// exists (engines drop a runtime's stderr when it succeeds). Tagged with
// the container's id ("prochook runtime <id>"), as the hook's lines are.
UniqueFd ConfigureWrapperLog(const RuntimeCommand& cmd, std::string* tag) {
  // create and run make the store the hook will log in (state/store.h: on
  // first use, in an empty run directory) and the log if it is missing;
  // other commands only append to one there is.
  const bool creates = CommandCreatesContainer(cmd.command);
  if (creates) EnsureStore(kDefaultRunDir);
  UniqueFd file(::open((std::string(kDefaultRunDir) + "/" + kHookLogFile).c_str(),
                       O_WRONLY | O_APPEND | O_CLOEXEC | O_NOFOLLOW | (creates ? O_CREAT : 0), 0600));
  std::string id = cmd.id.value_or(cmd.operands.empty() ? "" : cmd.operands.front());
  if (!ValidateContainerId(id)) id.clear();
  *tag = "prochook runtime" + (id.empty() ? "" : " " + id);
  ConfigureLog({.fd = 2, .file_fd = file.get(), .syslog = true, .min = LevelFromEnv(), .tag = tag->c_str()});
  return file;
}

}  // namespace

int RunRuntimeWrapper(std::vector<std::string> args, const std::string& self) {
  ConfigureLog({.fd = 2, .syslog = true, .min = LevelFromEnv(), .tag = "prochook runtime"});
  std::string runtime;
  const std::string flag_eq = std::string(kRuntimeFlag) + "=";
  if (!args.empty() && args[0].compare(0, flag_eq.size(), flag_eq) == 0) {
    runtime = args[0].substr(flag_eq.size());
    args.erase(args.begin());
  } else if (args.size() >= 2 && args[0] == kRuntimeFlag) {
    runtime = args[1];
    args.erase(args.begin(), args.begin() + 2);
  } else if (const char* env = getenv(kRuntimeEnv); env != nullptr && *env != '\0') {
    runtime = env;
  } else {
    runtime = "runc";
  }
  const std::string program = FindProgram(runtime);
  if (program.empty()) {
    LOG_ERROR("the real runtime \"%s\" is not found (set %s or %s=PATH)", runtime.c_str(),
              kRuntimeEnv, kRuntimeFlag);
    return 127;
  }
  if (RealPath(program) == RealPath(self)) {
    LOG_ERROR("the real runtime %s is prochook itself; set %s or %s=PATH", program.c_str(),
              kRuntimeEnv, kRuntimeFlag);
    return 127;
  }

  const RuntimeCommand cmd = ParseRuntimeCommand(args);
  std::string tag;
  const UniqueFd log_file = ConfigureWrapperLog(cmd, &tag);
  if (CommandCreatesContainer(cmd.command)) {
    // Fail open: a bundle prochook cannot edit still goes to the runtime,
    // which reports any real problem with it.
    auto edit = EditBundle(cmd.bundle.value_or("."), self);
    if (!edit) {
      LOG_WARN("%s; the container runs without prochook", edit.error().message().c_str());
    }
    // Before the runtime reads the config: its agent must listen first.
    if (cmd.id) SetUpSysinfo(kDefaultRunDir, *cmd.id, cmd.bundle.value_or("."));
    SetUpClock(cmd.bundle.value_or("."));
  } else {
    JoinContainerClock(program, cmd);
  }

  std::vector<char*> argv;
  argv.push_back(const_cast<char*>(program.c_str()));
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  ::execv(program.c_str(), argv.data());
  LOG_ERROR("exec %s: %s", program.c_str(), strerror(errno));
  return 127;
}

}  // namespace prochook
