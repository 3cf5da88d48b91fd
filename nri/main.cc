// prochook-nri: prochook's NRI plugin (containerd 1.7+, CRI-O 1.26+). It
// gives every container the runtime creates prochook's createRuntime and
// poststop hooks through NRI, instead of a runtime wrapper or hooks.d;
// where the runtime sends the container's seccomp policy, also sysinfo(2)
// trapped for a per-container agent it starts (`prochook agent`).
//
//   prochook-nri [--socket PATH] [--name NAME] [--idx NN] [--prochook PATH] [--run-dir DIR] [--reconnect]
//
// Started by the runtime (a file <idx>-<name> in its plugin_path), it
// serves the connection the runtime passed (NRI_PLUGIN_SOCKET,
// NRI_PLUGIN_NAME, NRI_PLUGIN_IDX) and exits when the runtime closes it.
// Started on its own, it connects to the runtime's socket; when the
// runtime closes the connection it exits (status 0), or with --reconnect
// connects again (every second until the socket answers) and registers
// anew, so a service manager need not restart it across runtime restarts.
// A protocol error ends the connection with status 1 (or a reconnect):
// the runtime carries on without the plugin, so containers start
// unserved, never blocked (prochook's fail-open default).

#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "agent/setup.h"
#include "common/log.h"
#include "nri/connection.h"
#include "nri/session.h"

namespace {

using namespace prochook;
using namespace prochook::nri;

constexpr char kUsage[] =
    "usage: prochook-nri [--socket PATH] [--name NAME] [--idx NN] [--prochook PATH] [--run-dir DIR]\n"
    "                    [--reconnect]\n"
    "  --socket PATH    the runtime's NRI socket (default /var/run/nri/nri.sock)\n"
    "  --name NAME      plugin name (default $NRI_PLUGIN_NAME, else prochook)\n"
    "  --idx NN         plugin index, two digits (default $NRI_PLUGIN_IDX, else 10)\n"
    "  --prochook PATH  the prochook binary the hooks run (default /usr/local/bin/prochook;\n"
    "                   the runtime's plugin configuration may set it: \"prochook: PATH\")\n"
    "  --run-dir DIR    prochook's state directories (default /run/prochook; given to the hooks)\n"
    "  --reconnect      when the runtime closes the connection, connect again\n"
    "With NRI_PLUGIN_SOCKET set (a runtime started the plugin), serves that fd.\n";

struct Flags {
  std::string socket = kDefaultSocket;
  Identity identity;
  PluginConfig config;
  bool reconnect = false;
};

std::string EnvOr(const char* name, const char* fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? v : fallback;
}

bool ParseFlags(int argc, char** argv, Flags& flags) {
  flags.identity = {EnvOr("NRI_PLUGIN_NAME", "prochook"), EnvOr("NRI_PLUGIN_IDX", "10")};
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const bool has_value = i + 1 < argc;
    if (arg == "--socket" && has_value) {
      flags.socket = argv[++i];
    } else if (arg == "--name" && has_value) {
      flags.identity.name = argv[++i];
    } else if (arg == "--idx" && has_value) {
      flags.identity.idx = argv[++i];
    } else if (arg == "--prochook" && has_value) {
      flags.config.prochook = argv[++i];
    } else if (arg == "--run-dir" && has_value) {
      flags.config.run_dir = argv[++i];
    } else if (arg == "--reconnect") {
      flags.reconnect = true;
    } else {
      fprintf(stderr, "prochook-nri: unexpected argument %s\n%s", arg.c_str(), kUsage);
      return false;
    }
  }
  return true;
}

// The container's sysinfo agent: `prochook agent` of the configured
// prochook, started and listening in its new state directory.
Result<> StartAgentIn(const PluginConfig& config, const std::string& dir) {
  TRY(PrepareAgent(config.run_dir, dir, config.prochook), "agent");
  return Ok{};
}

// One connection, start to end; true when it ended without an error.
bool Serve(UniqueFd fd, const Flags& flags) {
  Session session(flags.identity, flags.config, StartAgentIn);
  auto ended = RunSession(fd.get(), session);
  if (!ended) {
    LOG_ERROR("closing the connection: %s", ended.error().message().c_str());
    return false;
  }
  LOG_INFO("the runtime closed the connection%s; %llu containers given the hooks, %llu a sysinfo agent",
           *ended == Ending::kShutdown ? " after its shutdown" : "",
           static_cast<unsigned long long>(session.service().adjusted()),
           static_cast<unsigned long long>(session.service().trapped()));
  return true;
}

int ServeSocketPath(const Flags& flags) {
  bool said_waiting = false;
  for (;;) {
    auto fd = DialNri(flags.socket);
    if (fd) {
      said_waiting = false;
      const bool clean = Serve(std::move(*fd), flags);
      if (!flags.reconnect) return clean ? 0 : 1;
    } else if (!flags.reconnect) {
      LOG_ERROR("%s", fd.error().message().c_str());
      return 1;
    } else if (!said_waiting) {
      LOG_WARN("%s; trying again every second", fd.error().message().c_str());
      said_waiting = true;
    }
    sleep(1);
  }
}

}  // namespace

int main(int argc, char** argv) {
  Flags flags;
  if (!ParseFlags(argc, argv, flags)) return 2;
  ConfigureLog({.fd = 2, .syslog = true, .min = LevelFromEnv(), .tag = "prochook-nri"});
  // A runtime that goes away mid-write must end the session, not the plugin.
  signal(SIGPIPE, SIG_IGN);
  if (auto bad = CheckIdentity(flags.identity); !bad) {
    LOG_ERROR("%s", bad.error().message().c_str());
    return 2;
  }
  if (const char* inherited = std::getenv("NRI_PLUGIN_SOCKET"); inherited != nullptr && *inherited) {
    auto fd = InheritedSocket(inherited);
    if (!fd) {
      LOG_ERROR("%s", fd.error().message().c_str());
      return 1;
    }
    return Serve(std::move(*fd), flags) ? 0 : 1;
  }
  return ServeSocketPath(flags);
}
