// What the hook learned about a container, kept as state.json in the
// container's state directory (/run/prochook/<id>.<hash>/) so the renderer,
// poststop and later tools work from the same facts.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/cgroup_dir.h"
#include "common/result.h"

namespace prochook {

inline constexpr char kDefaultRunDir[] = "/run/prochook";
inline constexpr char kRecordFile[] = "state.json";
inline constexpr char kRendererPidFile[] = "renderer.pid";
inline constexpr char kRendererLogFile[] = "renderer.log";
// The sysinfo agent's (wrapper mode, agent/): its "<pid> <start time>" and
// the socket the runtime hands it notify fds on. It logs to renderer.log.
// A socket's path fits in 107 bytes (unix(7) sun_path): with a 64-character
// id (Docker, containerd, podman, CRI-O) /run/prochook/<id>.<hash>/sysinfo
// takes 103.
inline constexpr char kAgentPidFile[] = "agent.pid";
inline constexpr char kAgentSocketFile[] = "sysinfo";
// Written by a renderer that runs without Landlock: the reason.
inline constexpr char kUnsandboxedFile[] = "unsandboxed";
inline constexpr char kHookLogFile[] = "hook.log";  // in the run dir, for all containers
// What the renderer cannot do right now, one line each ("meminfo: ...");
// absent when all is well. Read by `prochook ps`.
inline constexpr char kProblemsFile[] = "problems";

struct ContainerRecord {
  std::string id;
  pid_t pid = 0;            // the container init, as the host sees it
  uint64_t pid_start = 0;   // its start time in the host's clock (common/proc.h): guards pid reuse
  std::string rootfs;
  int64_t interval_ms = 1000;
  // Idle mode: once nobody has read the files for idle_ms, refresh only
  // every idle_ms (and at once on the next read); 0 = always refresh.
  int64_t idle_ms = 10000;
  // Idle mode: the first read after a quiet spell waits for a refresh (the
  // read gate, renderer/read_gate.h); false: files are refreshed once per
  // idle period and a read wakes the renderer after it is served.
  bool fresh_reads = true;
  std::vector<std::string> files;  // names from the file table ("meminfo")
  bool cpu_view_quota = true;      // CPU view: cpuset limited by the quota
  bool show_swap = true;           // false: swap shown as zero
  bool container_uptime = false;   // uptime/btime from the container start
  // The boottime offset of the init's time namespace, whole seconds (the
  // runtime wrapper gives a container one: common/timens.h); 0 for the
  // host's clock. With a clock of its own the kernel shows the container's
  // uptime, so no uptime file is rendered, and btime is shifted by it.
  int64_t clock_offset_s = 0;
  bool own_clock() const { return clock_offset_s != 0; }
  std::map<std::string, CgroupDir> cgroups;
};

std::string SerializeRecord(const ContainerRecord& r);
Result<ContainerRecord> ParseRecord(std::string_view text);

// A container id becomes a directory name: refuse anything that could
// escape /run/prochook or confuse tools.
Result<> ValidateContainerId(std::string_view id);

}  // namespace prochook
