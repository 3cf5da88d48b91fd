// prochook: container-aware /proc files through an OCI hook.
//
//   prochook hook [--run-dir DIR] [--state-key KEY] [STAGE]
//                                           OCI hook entry (state on stdin)
//   prochook runtime [--prochook-runtime=PATH] ARGS...
//                                           OCI runtime wrapper (Docker, containerd)
//   prochook install|uninstall [...]       engine configuration
//   prochook ps [--json] [--run-dir DIR]    what prochook serves
//   prochook repair [--run-dir DIR]         restart dead renderers
//   prochook render --state-dir DIR         internal: one container's renderer
//   prochook agent --state-dir DIR [--ready-fd N]
//                                           internal: one container's sysinfo agent
//   prochook hold --state-dir DIR [--ready-fd N]
//                                           internal: the second holder of its notify fds
//   prochook version
// Invoked as prochook-runtime (a symlink), it is the runtime wrapper.

#include <limits.h>
#include <stdlib.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "agent/agent.h"
#include "agent/holder.h"
#include "common/io.h"
#include "common/log.h"
#include "common/text.h"
#include "common/timens.h"
#include "hook/hook.h"
#include "hook/ps.h"
#include "hook/repair.h"
#include "install/install.h"
#include "oci/json.h"
#include "oci/runtime_wrapper.h"
#include "renderer/loop.h"
#include "state/record.h"
#include "state/store.h"

namespace {

constexpr char kVersion[] = "0.1.0";

constexpr char kUsage[] =
    "usage: prochook hook [--run-dir DIR] [--state-key KEY] [STAGE]   OCI hook (state on stdin)\n"
    "       prochook runtime [--prochook-runtime=PATH] RUNTIME-ARGS...\n"
    "                                               OCI runtime wrapper: adds the hooks,\n"
    "                                               then execs PATH (default runc)\n"
    "       prochook install|uninstall [--dry-run] [--engines LIST] [--root DIR] [--runtime PATH]\n"
    "                                               set up podman/CRI-O, Docker, containerd;\n"
    "                                               uninstall also removes an unused store\n"
    "       prochook ps [--json] [--run-dir DIR]      containers served, renderers, store\n"
    "       prochook repair [--run-dir DIR]           restart dead renderers, drop gone containers\n"
    "       prochook version\n"
    "\n"
    "Configure as a createRuntime (or prestart) and a poststop hook with\n"
    "args [\"prochook\", \"hook\"]. See README.md.\n";

int Usage(const char* complaint) {
  if (complaint != nullptr) fprintf(stderr, "prochook: %s\n", complaint);
  fputs(kUsage, stderr);
  return 2;
}

int Hook(const std::vector<std::string>& args) {
  prochook::HookArgs hook{prochook::kDefaultRunDir, "", ""};
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--run-dir" && i + 1 < args.size()) {
      hook.run_dir = args[++i];
    } else if (args[i] == "--state-key" && i + 1 < args.size() && !args[i + 1].empty()) {
      hook.state_key = args[++i];
    } else if (!args[i].empty() && args[i][0] != '-' && hook.stage.empty()) {
      hook.stage = args[i];
    } else {
      return Usage(("hook: unexpected argument " + args[i]).c_str());
    }
  }
  // Read one byte past the limit so an oversized state is an error, not a
  // silently truncated document.
  auto input = prochook::ReadAll(0, prochook::kMaxDocumentBytes + 1);
  if (!input) {
    // Kept until RunHook configures the log (so hook.log gets it too),
    // which then refuses the empty state: exit 2.
    LOG_ERROR("reading the OCI state from stdin: %s", input.error().message().c_str());
    return prochook::RunHook(hook, "");
  }
  return prochook::RunHook(hook, *input);
}

// `agent` and `hold`: --state-dir DIR [--ready-fd N].
int PerContainer(const std::vector<std::string>& args, int (*run)(const std::string&, int), const char* name) {
  if (args.size() == 2 && args[0] == "--state-dir") return run(args[1], -1);
  if (args.size() == 4 && args[0] == "--state-dir" && args[2] == "--ready-fd") {
    const auto fd = prochook::ParseU64(args[3]);
    if (fd && *fd < 1024) return run(args[1], static_cast<int>(*fd));
  }
  return Usage((std::string(name) + ": --state-dir DIR [--ready-fd N]").c_str());
}

int Render(const std::vector<std::string>& args) {
  if (args.size() != 2 || args[0] != "--state-dir") return Usage("render: --state-dir DIR");
  return prochook::RunRenderer(args[1]);
}

// prochook's own absolute path, written into hooks and engine configs.
std::string SelfPath() {
  char buf[PATH_MAX];
  return ::realpath("/proc/self/exe", buf) != nullptr ? buf : "/proc/self/exe";
}

// Removes the engines' configuration, then the store if nothing is served
// from it any more (a container still served keeps it; a later uninstall
// removes it). --run-dir names another store (tests).
int Uninstall(std::vector<std::string> args) {
  std::string run_dir = prochook::kDefaultRunDir;
  bool dry_run = false, other_root = false;
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--run-dir" && i + 1 < args.size()) {
      run_dir = args[i + 1];
      args.erase(args.begin() + static_cast<long>(i), args.begin() + static_cast<long>(i) + 2);
      --i;
    } else {
      dry_run = dry_run || args[i] == "--dry-run";
      other_root = other_root || args[i] == "--root";
    }
  }
  int code = prochook::RunInstall(args, /*uninstall=*/true, SelfPath());
  // The store belongs to this host's mount namespace: not removed for
  // another root (--root) or when only previewing.
  if (dry_run || other_root) return code;
  auto removed = prochook::RemoveStore(run_dir);
  if (!removed) {
    printf("store: %s\n", removed.error().message().c_str());
    return code == 0 ? 1 : code;
  }
  if (*removed) printf("store: unmounted %s and removed %s\n", run_dir.c_str(), prochook::StoreImagePath(run_dir).c_str());
  return code;
}

std::string BaseName(const char* path) {
  const char* slash = strrchr(path, '/');
  return slash != nullptr ? slash + 1 : path;
}

}  // namespace

int main(int argc, char** argv) {
  // Start times and uptimes are read in the host's clock: a hook runs in
  // the container's when the container has one of its own
  // (common/timens.h). What cannot be done is logged once the log is set
  // up (lines before it are kept), and the readers then undo the offset.
  if (auto moved = prochook::EnterHostClock(); !moved) {
    LOG_DEBUG("staying in this clock: %s", moved.error().message().c_str());
  }
  if (BaseName(argv[0]) == prochook::kRuntimeLinkName) {
    return prochook::RunRuntimeWrapper({argv + 1, argv + argc}, SelfPath());
  }
  if (argc < 2) return Usage(nullptr);
  const std::string cmd = argv[1];
  const std::vector<std::string> rest(argv + 2, argv + argc);
  if (cmd == "hook") return Hook(rest);
  if (cmd == "render") return Render(rest);
  if (cmd == "agent") return PerContainer(rest, prochook::RunAgent, "agent");
  if (cmd == "hold") return PerContainer(rest, prochook::RunHolder, "hold");
  if (cmd == "repair") return prochook::RunRepair(rest);
  if (cmd == "ps") return prochook::RunPs(rest);
  if (cmd == "install") return prochook::RunInstall(rest, false, SelfPath());
  if (cmd == "uninstall") return Uninstall(rest);
  if (cmd == "runtime") return prochook::RunRuntimeWrapper(rest, SelfPath());
  if (cmd == "version" || cmd == "--version") {
    printf("prochook %s\n", kVersion);
    return 0;
  }
  if (cmd == "help" || cmd == "--help" || cmd == "-h") {
    fputs(kUsage, stdout);
    return 0;
  }
  return Usage(("unknown command " + cmd).c_str());
}
