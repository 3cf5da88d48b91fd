// One container per engine, with prochook configured the way README tells
// a user to: runc and crun with hooks in config.json, podman with a hooks.d
// directory, Docker with a daemon.json runtime entry, containerd with the
// runc shim's BinaryName. Daemons (dockerd, containerd) are private to the
// test: own sockets, state and data dirs under /tmp, no network (dockerd
// --bridge=none), stopped by pid. Everything is removed by the destructor.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "tests/e2e/harness.h"

namespace prochook::e2e {

// A daemon a test started (dockerd, containerd), its output to log:
// stopped by its pid (SIGTERM, SIGKILL after 20 s) when destroyed.
class Daemon {
 public:
  Daemon(const std::vector<std::string>& argv, const std::string& log);
  ~Daemon();
  Daemon(const Daemon&) = delete;
  Daemon& operator=(const Daemon&) = delete;

 private:
  struct Child;
  std::unique_ptr<Child> child_;
};

// dockerd's command line as the tests start it: no bridge, no iptables,
// live restore, everything (socket, data, exec root) under work;
// config_file: its daemon.json ("" for none).
std::vector<std::string> DockerdArgs(const std::string& work, const std::string& config_file);

// kPodmanWrapper: podman --runtime prochook, as `prochook install`
// configures it (the wrapper, runc behind it), with hooks.d too.
enum class Engine { kRunc, kCrun, kPodmanRunc, kPodmanCrun, kPodmanWrapper, kDocker, kContainerd };

std::string EngineName(Engine e);
// The programs an engine needs (for SkipUnlessReady).
std::vector<std::string> EngineTools(Engine e);

// crun refuses a hybrid layout with a controller on cgroup2 (here hugetlb):
// mount a v1 hugetlb hierarchy, which moves it off v2 (idempotent).
void PrepareCgroupsForCrun();

class EngineContainer {
 public:
  struct Limits {
    uint64_t memory = 256ull << 20;
    int64_t cpu_quota_us = 100000;  // per 100 ms: one CPU
    // OCI annotations, passed the engine's way (not supported for docker).
    std::map<std::string, std::string> annotations = {};
    // podman: the host's own hooks.d directories (what a package
    // installs) instead of a scratch `prochook install`.
    bool host_hooks = false;
  };
  // Starts the container (sleep); check start().exit_code.
  EngineContainer(Engine engine, const Limits& limits);
  ~EngineContainer();
  EngineContainer(const EngineContainer&) = delete;
  EngineContainer& operator=(const EngineContainer&) = delete;

  const RunResult& start() const { return start_; }
  // The OCI id, which names prochook's state dir.
  const std::string& id() const { return id_; }
  RunResult Exec(const std::vector<std::string>& argv) const;
  // Removes the container the engine's way (rm -f, task kill + rm, ...).
  void Remove();
  // Starts and removes one more container with the same limits in this
  // engine session (podman only, for the soak test); its OCI id in *id.
  RunResult Cycle(std::string* id);
  // The engine's own CLI with its connection flags (docker -H ..., ctr
  // --address ..., podman --root ...): args after those.
  RunResult Cli(const std::vector<std::string>& args) const;
  // Stops the engine's daemon (dockerd with live restore, containerd) and
  // starts it again; the containers keep running.
  RunResult RestartDaemon();

  class Impl;  // one per engine, in engines.cc

 private:
  std::unique_ptr<Impl> impl_;
  RunResult start_;
  std::string id_;
};

}  // namespace prochook::e2e
