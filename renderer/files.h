// A container's files: reads the host and the container's cgroups once per
// refresh and renders every file the container is served from that one
// snapshot, so the files agree with each other. Holds what must outlive a
// refresh: /proc/stat's and /proc/vmstat's last counters (never going
// backwards) and the load average.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/reader.h"
#include "common/result.h"
#include "renderer/cpu_view.h"
#include "renderer/diskstats.h"
#include "renderer/loadavg.h"
#include "renderer/memory.h"
#include "renderer/stat.h"
#include "renderer/tasks.h"
#include "renderer/uptime.h"
#include "renderer/vmstat.h"
#include "state/record.h"

namespace prochook {

// Where the host's state is read: the real paths normally, fixture trees
// in tests.
struct HostPaths {
  std::string proc = "/proc";
  std::string sys_cpu = "/sys/devices/system/cpu";
};

struct RenderedFile {
  std::string path;              // relative to the state directory, e.g. "sys-cpu/online"
  Result<std::string> content;   // an error keeps the last good content in place
};

class ContainerRenderer {
 public:
  explicit ContainerRenderer(const ContainerRecord& record, HostPaths host = {});

  // Renders the files of record.files ("pressure" yields pressure-cpu,
  // -memory, -io where the cgroup has PSI; "sys-cpu" yields
  // sys-cpu/{online,possible,present,offline,enabled}; "sys-block" yields
  // sys-block/<device> (block_stat.h); "uptime" only with the container
  // clock); cpuinfo only on the first call, when the CPU view changed and
  // every kCpuinfoEvery calls. now_ms is CLOCK_MONOTONIC.
  std::vector<RenderedFile> Render(int64_t now_ms);

  // Samples the container's tasks into the load average without rendering
  // anything: what an unread container needs between refreshes.
  void SampleLoad(int64_t now_ms);

  // Continues from the /proc/stat an earlier renderer of this container
  // wrote (after a restart): counters never go backwards across renderers.
  void Resume(std::string_view previous_stat) { stat_.Seed(ParseHostStat(previous_stat)); }
  // The same for /proc/vmstat's counters.
  void ResumeVmstat(std::string_view previous_vmstat) { vmstat_.Seed(previous_vmstat); }

  // Serves these block devices' stat files (sys-block/<name>) rather than
  // choosing them anew: a restarted renderer keeps those mounted.
  void KeepBlockDevices(std::vector<std::string> names) { block_devices_ = std::move(names); }

  // The CPU view of the last Render.
  const CpuView& view() const { return view_; }

  // What the last Render could not do although no file failed: a CPU view
  // kept from before, memory shown with the host's values. Empty when all
  // is well; for `prochook ps`.
  std::vector<std::string> Degraded() const;

 private:
  bool Wants(const char* name) const;
  const CgroupDir& Cgroup(const char* controller) const;
  // The inputs of /proc/stat and the clock figures of /proc/uptime.
  Result<StatInput> ReadStatInput(UptimeFigures* fig);
  // Render's steps, in order; each adds the files it renders to out.
  void UpdateCpuView();
  void AddMemoryFiles(std::vector<RenderedFile>& out);
  void AddVmstat(const std::optional<MemorySnapshot>& memory, std::vector<RenderedFile>& out);
  void AddCpuinfo(std::vector<RenderedFile>& out);
  std::optional<TaskSample> SampleContainerTasks();
  void AddStatAndUptime(const std::optional<TaskSample>& tasks, std::vector<RenderedFile>& out);
  void AddLoadavg(const std::optional<TaskSample>& tasks, int64_t now_ms, std::vector<RenderedFile>& out);
  void AddDiskstats(std::vector<RenderedFile>& out);
  void AddBlockStats(std::string_view host_diskstats, const Result<std::vector<DiskCounters>>& disks,
                     std::vector<RenderedFile>& out);
  void AddPressure(std::vector<RenderedFile>& out);
  void AddSysCpu(std::vector<RenderedFile>& out);

  ContainerRecord record_;
  HostPaths host_;
  // Every procfs, sysfs and cgroupfs input stays open between refreshes.
  KeptOpenReader reader_;
  std::optional<bool> host_has_enabled_;  // /sys/devices/system/cpu/enabled
  std::string memory_warning_;            // the last one logged
  std::string cpu_view_problem_;          // why the view is not current; the last one logged
  // The view cpuinfo was last rendered for, and refreshes since.
  static constexpr int kCpuinfoEvery = 10;
  std::optional<std::vector<int>> cpuinfo_view_;
  int cpuinfo_age_ = 0;
  // The devices whose stat files are served, chosen on the first Render.
  std::optional<std::vector<std::string>> block_devices_;
  CpuView view_;
  StatState stat_;
  VmstatState vmstat_;
  TaskSampler tasks_;
  LoadAverage load_;
};

}  // namespace prochook
