#include "oci/runtime_args.h"

#include <algorithm>
#include <array>
#include <string_view>

namespace prochook {
namespace {

bool TakesValue(std::string_view flag) {
  static constexpr std::array<std::string_view, 7> kFlags = {
      "--root", "--log", "--log-format", "--log-level", "--criu", "--rootless", "--cgroup-manager"};
  return std::find(kFlags.begin(), kFlags.end(), flag) != kFlags.end();
}

// "--bundle X", "--bundle=X", "-b X", "-b=X" from the command's flags.
std::optional<std::string> FindBundle(const std::vector<std::string>& args, size_t from) {
  for (size_t i = from; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--") break;
    for (std::string_view flag : {"--bundle", "-b"}) {
      if (a == flag && i + 1 < args.size()) return args[i + 1];
      if (a.size() > flag.size() && a.compare(0, flag.size(), flag) == 0 && a[flag.size()] == '=') {
        return a.substr(flag.size() + 1);
      }
    }
  }
  return std::nullopt;
}

// The command flags (runc, crun) that take a separate value: create and
// run, exec, update, events, ps.
bool CommandFlagTakesValue(std::string_view flag) {
  static constexpr std::array<std::string_view, 40> kFlags = {
      "--bundle", "-b", "--console-socket", "--pid-file", "--preserve-fds", "--config", "-f",
      "--pidfd-socket", "--cwd", "--env", "-e", "--process", "-p", "--apparmor",
      "--process-label", "--user", "-u", "--additional-gids", "-g", "--cap", "-c", "--cgroup",
      "--resources", "-r", "--blkio-weight", "--cpu-period", "--cpu-quota", "--cpu-share",
      "--cpu-rt-period", "--cpu-rt-runtime", "--cpuset-cpus", "--cpuset-mems", "--memory",
      "--memory-reservation", "--memory-swap", "--pids-limit", "--kernel-memory",
      "--kernel-memory-tcp", "--interval", "--format"};
  return std::find(kFlags.begin(), kFlags.end(), flag) != kFlags.end();
}

// The command's operands: what is neither a flag nor a flag's value, up to
// the first; from there on everything ("exec ID ls -l": the process's own
// command line).
std::vector<std::string> Operands(const std::vector<std::string>& args, size_t from) {
  std::vector<std::string> out;
  bool flags_end = false;
  for (size_t i = from; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--" && out.empty() && !flags_end) {
      flags_end = true;
      continue;
    }
    if (out.empty() && !flags_end && !a.empty() && a[0] == '-') {
      if (a.find('=') == std::string::npos && CommandFlagTakesValue(a)) ++i;
      continue;
    }
    out.push_back(a);
  }
  return out;
}

// Value of the global "--root X" / "--root=X".
std::optional<std::string> GlobalRoot(const std::vector<std::string>& args, size_t i) {
  const std::string& a = args[i];
  if (a == "--root" && i + 1 < args.size()) return args[i + 1];
  if (a.compare(0, 7, "--root=") == 0) return a.substr(7);
  return std::nullopt;
}

// The command's one positional argument: the container id.
std::optional<std::string> FindId(const std::vector<std::string>& args, size_t from) {
  std::optional<std::string> id;
  for (size_t i = from; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--") {
      if (i + 1 < args.size()) id = args[i + 1];
      break;
    }
    if (!a.empty() && a[0] == '-') {
      if (a.find('=') == std::string::npos && CommandFlagTakesValue(a)) ++i;
      continue;
    }
    id = a;
  }
  return id;
}

}  // namespace

RuntimeCommand ParseRuntimeCommand(const std::vector<std::string>& args) {
  RuntimeCommand out;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a.empty() || a[0] != '-') {
      out.command = a;
      out.operands = Operands(args, i + 1);
      if (CommandCreatesContainer(a)) {
        out.bundle = FindBundle(args, i + 1);
        out.id = FindId(args, i + 1);
      }
      return out;
    }
    if (auto root = GlobalRoot(args, i)) out.root = root;
    if (a.find('=') == std::string::npos && TakesValue(a)) ++i;
  }
  return out;
}

bool CommandCreatesContainer(const std::string& command) {
  return command == "create" || command == "run";
}

}  // namespace prochook
