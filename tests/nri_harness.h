// A runtime's side of NRI over a real socket, for tests that run the
// prochook-nri binary: the listening socket, the plugin process, and one
// connection driven as NRI's adaptation drives it (tests/nri_runtime.h
// renders and reads the bytes). Uses doctest's REQUIRE: test code only.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/fd.h"
#include "tests/nri_runtime.h"
#include "tests/testing.h"

namespace prochook::nri::testing {

using namespace std::chrono_literals;

// //nri:prochook-nri in the test's runfiles.
std::string PluginBinary();

// The runtime's listening socket at path.
UniqueFd Listen(const std::string& path);
bool Readable(int fd, std::chrono::milliseconds timeout);
// The plugin's connection; fails the test if none comes within timeout.
UniqueFd Accept(int listener, std::chrono::milliseconds timeout = 5s);

// The plugin process: stderr kept in a file, killed and reaped on scope exit.
class Plugin {
 public:
  // args after the binary; env replaces the environment (as containerd's
  // launch does); inherit becomes fd 3 when valid.
  Plugin(const std::vector<std::string>& args, const std::vector<std::string>& env, int inherit = -1);
  ~Plugin();
  Plugin(const Plugin&) = delete;
  Plugin& operator=(const Plugin&) = delete;
  // The wait status once the plugin exits within timeout; nullopt if not.
  std::optional<int> Wait(std::chrono::milliseconds timeout = 5s);
  std::string Stderr() const;

 private:
  prochook::testing::TempDir dir_;
  std::string log_;
  pid_t pid_ = -1;
  std::optional<int> status_;
};

// One connection, seen from the runtime's side.
struct RuntimeConn {
  explicit RuntimeConn(UniqueFd conn) : fd(std::move(conn)) {}

  UniqueFd fd;
  FakeRuntime rt;

  void Send(const std::string& bytes);
  // Reads until pred holds; false on timeout or when the plugin closed.
  bool ReadUntil(const std::function<bool()>& pred, std::chrono::milliseconds timeout = 5s);
  // True once the plugin closed its end (read returns 0 or a reset).
  bool ClosedByPlugin(std::chrono::milliseconds timeout = 5s);
  // What NRI's adaptation does on a new connection: wait for
  // RegisterPlugin, configure (before answering it, as the adaptation
  // may) with config as the plugin's configuration, answer it,
  // synchronize with two existing containers (one with a hook whose path
  // is existing_hook).
  api::RegisterPluginRequest Register(const std::string& existing_hook, const std::string& config = "");
  // CreateContainer for a container id (or as described); the adjustment.
  api::ContainerAdjustment Create(const std::string& id);
  api::ContainerAdjustment Create(const api::Container& container);
};

// A plugin started as a runtime starts one from its plugin_path: no
// arguments, a connected socket as fd 3, NRI_PLUGIN_NAME=prochook,
// NRI_PLUGIN_IDX=idx, NRI_PLUGIN_SOCKET=3 and no other variable.
struct Launched {
  std::unique_ptr<Plugin> plugin;
  RuntimeConn conn;
};
Launched Launch(const std::string& idx);

}  // namespace prochook::nri::testing
