// `prochook ps`: the containers prochook serves on this host, from the
// state directories in the run directory.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace prochook {

struct ServedContainer {
  std::string id;
  pid_t init_pid = 0;
  bool init_alive = false;  // that pid still is the container's init
  std::string cgroup;       // the memory cgroup, else the first one found
  std::vector<std::string> files;  // those rendered ("uptime" only if the rendered one is asked for)
  // "own": a time namespace of its own (wrapper mode), so /proc/uptime,
  // btime and sysinfo's uptime count from its start; "host": the host's.
  std::string clock;
  // "agent <pid>": sysinfo(2) answered by its agent (wrapper mode);
  // "agent-dead" (repair restarts it); "kernel": not trapped.
  std::string sysinfo;
  std::optional<pid_t> renderer_pid;
  // serving | idle (no refresh for 2 intervals + 0.5 s with idle mode on:
  // nobody reads the files, they are refreshed every idle_ms) | stale (no
  // refresh for idle_ms + 2 intervals + 1 s, or 3 intervals + 1 s with idle
  // mode off) | failing (the renderer lives but reports problems: some or
  // all files keep old content, or show approximations; a refresh where
  // every file failed does not count, so it also goes stale) |
  // renderer-dead | container-gone | broken (state.json unreadable: see
  // problem)
  std::string state;
  std::optional<double> refreshed_ago_s;
  int64_t interval_ms = 0;
  int64_t idle_ms = 0;
  std::string problem;
  // Why its renderer runs without Landlock (renderer/sandbox.h), if it does.
  std::string unsandboxed;
  std::vector<std::string> problems;  // the renderer's problems file, a line each
};

// I/O. Sorted by id; entries that are not container directories ignored.
std::vector<ServedContainer> ListServed(const std::string& run_dir,
                                        std::chrono::system_clock::time_point now);

// Pure. Aligned columns under a header; a first line names the store.
std::string RenderPsTable(const std::string& store, const std::vector<ServedContainer>& list);
// Pure. {"store": ..., "containers": [...]} with one trailing newline.
std::string RenderPsJson(const std::string& store, const std::vector<ServedContainer>& list);

// `prochook ps [--json] [--run-dir DIR]`.
int RunPs(const std::vector<std::string>& args);

}  // namespace prochook
