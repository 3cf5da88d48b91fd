#include "oci/runtime_wrapper.h"

#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>

#include "common/io.h"
#include "agent/setup.h"
#include "common/log.h"
#include "oci/config_edit.h"
#include "oci/json.h"
#include "oci/runtime_args.h"
#include "state/record.h"

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
  if (CommandCreatesContainer(cmd.command)) {
    // Fail open: a bundle prochook cannot edit still goes to the runtime,
    // which reports any real problem with it.
    auto edit = EditBundle(cmd.bundle.value_or("."), self);
    if (!edit) {
      LOG_WARN("%s; the container runs without prochook", edit.error().message().c_str());
    }
    // Before the runtime reads the config: its agent must listen first.
    if (cmd.id) SetUpSysinfo(kDefaultRunDir, *cmd.id, cmd.bundle.value_or("."));
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
