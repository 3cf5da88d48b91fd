#include "renderer/files.h"

#include <algorithm>
#include <cstdio>
#include <numeric>

#include <sched.h>
#include <unistd.h>

#include "common/io.h"
#include "common/log.h"
#include "common/text.h"
#include "renderer/block_stat.h"
#include "renderer/cpu_usage.h"
#include "renderer/cpuinfo.h"
#include "renderer/diskstats.h"
#include "renderer/meminfo.h"
#include "renderer/memory.h"
#include "renderer/pressure.h"
#include "renderer/swaps.h"
#include "renderer/tasks.h"
#include "renderer/uptime.h"
#include "renderer/vmstat.h"

namespace prochook {
namespace {

const CgroupDir kAbsent{};

// Host /proc/uptime: "uptime idle\n", seconds.
Result<double> ReadHostUptime(const std::string& proc, FileReader& reader) {
  TRY_ASSIGN(std::string text, reader.Read(proc + "/uptime"), "host uptime");
  double up = 0;
  if (std::sscanf(text.c_str(), "%lf", &up) != 1 || up < 0) {
    return Error::Msg("host uptime: unexpected \"" + text + "\"");
  }
  return up;
}

// 0..n-1 as the kernel prints a CPU mask: "0-3\n".
std::string CpuRange(size_t n) {
  std::vector<int> cpus(n);
  std::iota(cpus.begin(), cpus.end(), 0);
  return FormatCpuList(cpus) + "\n";
}

}  // namespace

ContainerRenderer::ContainerRenderer(const ContainerRecord& record, HostPaths host)
    : record_(record), host_(std::move(host)) {}

bool ContainerRenderer::Wants(const char* name) const {
  return std::find(record_.files.begin(), record_.files.end(), name) != record_.files.end();
}

const CgroupDir& ContainerRenderer::Cgroup(const char* controller) const {
  auto it = record_.cgroups.find(controller);
  return it == record_.cgroups.end() ? kAbsent : it->second;
}

Result<StatInput> ContainerRenderer::ReadStatInput(UptimeFigures* fig) {
  TRY_ASSIGN(std::string host_stat, reader_.Read(host_.proc + "/stat"), "host stat");
  TRY_ASSIGN(double host_uptime, ReadHostUptime(host_.proc, reader_), "host uptime");
  StatInput in;
  in.host = ParseHostStat(host_stat);
  in.view = view_;
  // Without CPU accounting the visible CPUs show the host's figures; with
  // it, an unreadable usage fails the refresh so the last good file stays
  // (falling back to host figures would make the counters jump).
  const CgroupDir& acct = Cgroup("cpuacct").present() ? Cgroup("cpuacct") : Cgroup("cpu");
  if (acct.present()) {
    TRY_ASSIGN(in.usage, ReadCpuUsage(acct, reader_), "CPU usage of " + acct.dir);
  }
  *fig = ComputeUptime(record_.container_uptime ? UptimeMode::kContainer : UptimeMode::kHost,
                       host_uptime, in.host.btime.value_or(0), record_.pid_start, record_.clock_offset_s);
  in.elapsed_ticks = fig->elapsed_ticks;
  in.btime = fig->btime;
  return in;
}

std::vector<RenderedFile> ContainerRenderer::Render(int64_t now_ms) {
  std::vector<RenderedFile> out;
  UpdateCpuView();
  AddMemoryFiles(out);
  AddCpuinfo(out);
  const std::optional<TaskSample> tasks = SampleContainerTasks();
  AddStatAndUptime(tasks, out);
  AddLoadavg(tasks, now_ms, out);
  AddDiskstats(out);
  AddPressure(out);
  AddSysCpu(out);
  return out;
}

namespace {

// The host's online CPUs; a read error or an empty or malformed list is an
// error.
Result<std::vector<int>> ReadOnlineCpus(const std::string& sys_cpu, FileReader& reader) {
  const std::string path = sys_cpu + "/online";
  TRY_ASSIGN(std::string text, reader.Read(path), "host CPUs");
  TRY_ASSIGN(std::vector<int> cpus, ParseCpuList(text), path);
  if (cpus.empty()) return Error::Msg(path + " is empty");
  return cpus;
}

// The CPUs this process may run on: the stand-in for the online list while
// there is no view yet (the hook's first render).
std::vector<int> AffinityCpus() {
  cpu_set_t set;
  std::vector<int> cpus;
  if (::sched_getaffinity(0, sizeof set, &set) == 0) {
    for (int c = 0; c < CPU_SETSIZE; ++c) {
      if (CPU_ISSET(c, &set)) cpus.push_back(c);
    }
  }
  if (cpus.empty()) cpus.push_back(0);
  return cpus;
}

}  // namespace

// The CPU view every CPU-listing file shares. A view that cannot be
// computed (the host's online list or the container's cpuset unreadable)
// keeps the previous one: the fallbacks, one CPU or every host CPU, would
// make the files lie. Logged once per change of reason.
void ContainerRenderer::UpdateCpuView() {
  auto online = ReadOnlineCpus(host_.sys_cpu, reader_);
  const CpuLimits limits = ReadCpuLimits(Cgroup("cpuset"), Cgroup("cpu"), reader_);
  std::string problem;
  if (!online) {
    problem = online.error().message();
  } else if (Cgroup("cpuset").present() && limits.cpuset.empty()) {
    problem = "the cpuset of " + Cgroup("cpuset").dir + " cannot be read";
  }
  const bool first = view_.visible.empty();
  if (problem != cpu_view_problem_) {
    if (problem.empty()) {
      LOG_INFO("CPU view: computed again");
    } else if (first) {
      LOG_WARN("CPU view: %s; using %s until it can be read", problem.c_str(),
               online ? "every online CPU" : "the CPUs this process may use");
    } else {
      LOG_WARN("CPU view: %s; keeping the last one (%zu CPUs)", problem.c_str(), view_.visible.size());
    }
    cpu_view_problem_ = problem;
  }
  if (!problem.empty() && !first) return;
  view_ = ComputeCpuView(limits, online ? *online : AffinityCpus(),
                         record_.cpu_view_quota ? CpuViewMode::kCpusetAndQuota : CpuViewMode::kCpusetOnly);
}

std::vector<std::string> ContainerRenderer::Degraded() const {
  std::vector<std::string> out;
  if (!cpu_view_problem_.empty()) out.push_back("CPU view: " + cpu_view_problem_);
  if (!memory_warning_.empty()) out.push_back("memory shows host values: " + memory_warning_);
  return out;
}

// meminfo, swaps and vmstat, from one memory snapshot; a missing or
// unreadable memory controller means the host's values.
void ContainerRenderer::AddMemoryFiles(std::vector<RenderedFile>& out) {
  if (!Wants("meminfo") && !Wants("swaps") && !Wants("vmstat")) return;
  std::optional<MemorySnapshot> memory;
  if (Cgroup("memory").present()) {
    auto snap = ReadMemoryCgroup(Cgroup("memory"), reader_);
    if (snap) {
      memory = std::move(*snap);
      memory_warning_.clear();
    } else if (snap.error().message() != memory_warning_) {
      // Once per change, not per refresh: the log lives in the store.
      memory_warning_ = snap.error().message();
      LOG_WARN("memory shows host values: %s", memory_warning_.c_str());
    }
  }
  if (memory && !record_.show_swap) {
    memory->swap_limit = 0;
    memory->swap_usage = 0;
  }
  if (Wants("meminfo")) {
    auto text = reader_.Read(host_.proc + "/meminfo");
    out.push_back({"meminfo", text ? Result<std::string>(RenderMeminfo(ParseMeminfo(*text), memory))
                                   : Result<std::string>(text.error())});
  }
  if (Wants("swaps")) {
    auto text = reader_.Read(host_.proc + "/swaps");
    out.push_back({"swaps", text ? Result<std::string>(RenderSwaps(*text, memory, record_.show_swap))
                                 : Result<std::string>(text.error())});
  }
  if (Wants("vmstat")) AddVmstat(memory, out);
}

// The host's /proc/vmstat with the container's block I/O and memory.stat
// events; its gauges follow meminfo (the host's MemTotal decides, as there).
void ContainerRenderer::AddVmstat(const std::optional<MemorySnapshot>& memory, std::vector<RenderedFile>& out) {
  auto text = reader_.Read(host_.proc + "/vmstat");
  auto meminfo = reader_.Read(host_.proc + "/meminfo");
  if (!text || !meminfo) {
    out.push_back({"vmstat", text ? meminfo.error() : text.error()});
    return;
  }
  VmstatInput in;
  in.memory = memory ? &*memory : nullptr;
  in.mem_total_kb = ContainerMemTotalKb(ParseMeminfo(*meminfo), memory);
  in.page_size = static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
  if (Cgroup("blkio").present()) {
    if (auto io = ReadIoStats(Cgroup("blkio"), reader_)) {
      in.io_read_bytes = in.io_write_bytes = 0;
      for (const IoDeviceStat& d : *io) {
        in.io_read_bytes = SatAdd(*in.io_read_bytes, d.read_bytes);
        in.io_write_bytes = SatAdd(*in.io_write_bytes, d.write_bytes);
      }
    }
  }
  out.push_back({"vmstat", RenderVmstat(*text, in, vmstat_)});
}

// cpuinfo changes with the CPU view; otherwise only its "cpu MHz" lines
// move, and reading it makes the kernel query every CPU (on a large host
// the dearest file of a refresh). So it is rendered again when the view
// changes and every kCpuinfoEvery refreshes; in between the last one stays.
void ContainerRenderer::AddCpuinfo(std::vector<RenderedFile>& out) {
  if (!Wants("cpuinfo")) return;
  if (view_.visible == cpuinfo_view_ && ++cpuinfo_age_ < kCpuinfoEvery) return;
  auto text = reader_.Read(host_.proc + "/cpuinfo");
  if (text) {
    cpuinfo_view_ = view_.visible;
    cpuinfo_age_ = 0;
  }
  out.push_back({"cpuinfo", text ? Result<std::string>(RenderCpuinfo(ParseCpuinfo(*text), view_))
                                 : Result<std::string>(text.error())});
}

// The container's tasks: procs_running/blocked in stat, and loadavg.
std::optional<TaskSample> ContainerRenderer::SampleContainerTasks() {
  if (!Wants("stat") && !Wants("loadavg")) return std::nullopt;
  const CgroupDir& cg = Cgroup("cpu").present()    ? Cgroup("cpu")
                        : Cgroup("pids").present() ? Cgroup("pids")
                                                   : Cgroup("memory");
  if (!cg.present()) return std::nullopt;
  auto sample = tasks_.Sample(cg, Cgroup("pids"), host_.proc);
  if (!sample) return std::nullopt;
  return *sample;
}

// With the host's clock (the default) /proc/uptime is left to the kernel:
// a rendered copy is up to one interval old, and ps and top compute a
// process's age as uptime - starttime, so a process younger than the copy
// would show a negative ELAPSED and a nonsense %CPU. The container clock
// (io.prochook.uptime=container) renders it, trading ps for `uptime`.
void ContainerRenderer::AddStatAndUptime(const std::optional<TaskSample>& tasks,
                                         std::vector<RenderedFile>& out) {
  const bool uptime = Wants("uptime") && record_.container_uptime;
  if (!Wants("stat") && !uptime) return;
  UptimeFigures fig;
  Result<StatInput> in = ReadStatInput(&fig);
  if (!in) {
    if (Wants("stat")) out.push_back({"stat", in.error()});
    if (uptime) out.push_back({"uptime", in.error()});
    return;
  }
  if (tasks) {
    in->procs_running = tasks->running;
    in->procs_blocked = tasks->uninterruptible;
  }
  std::string stat = RenderStat(*in, stat_);
  if (Wants("stat")) out.push_back({"stat", std::move(stat)});
  if (uptime) {
    out.push_back({"uptime", RenderUptime(fig.uptime_s, static_cast<double>(stat_.idle_ticks()) / kUserHz)});
  }
}

void ContainerRenderer::SampleLoad(int64_t now_ms) {
  if (!Wants("loadavg")) return;
  if (const std::optional<TaskSample> tasks = SampleContainerTasks()) {
    load_.Sample(tasks->running + tasks->uninterruptible, now_ms);
  }
}

void ContainerRenderer::AddLoadavg(const std::optional<TaskSample>& tasks, int64_t now_ms,
                                   std::vector<RenderedFile>& out) {
  if (!Wants("loadavg")) return;
  if (!tasks) {
    out.push_back({"loadavg", Error::Msg("the container's tasks cannot be read")});
    return;
  }
  load_.Sample(tasks->running + tasks->uninterruptible, now_ms);
  out.push_back({"loadavg", RenderLoadavg(load_, *tasks)});
}

// diskstats and the block devices' stat files, from one read of the host's
// diskstats and of the container's I/O counters, so that they agree.
void ContainerRenderer::AddDiskstats(std::vector<RenderedFile>& out) {
  const bool diskstats = Wants("diskstats");
  if (!diskstats && !Wants("sys-block")) return;
  auto text = reader_.Read(host_.proc + "/diskstats");
  if (!text) {
    if (diskstats) out.push_back({"diskstats", text.error()});
    return;  // the stat files keep their last content (none at first)
  }
  if (!Cgroup("blkio").present()) {
    // No I/O accounting: the host's view, and its own stat files.
    if (diskstats) out.push_back({"diskstats", *text});
    return;
  }
  auto io = ReadIoStats(Cgroup("blkio"), reader_);
  Result<std::vector<DiskCounters>> disks =
      io ? Result<std::vector<DiskCounters>>(ComputeDiskCounters(*text, *io)) : io.error();
  if (diskstats) {
    out.push_back({"diskstats", disks ? Result<std::string>(RenderDiskstats(*disks))
                                      : Result<std::string>(disks.error())});
  }
  if (Wants("sys-block")) AddBlockStats(*text, disks, out);
}

// The devices are chosen on the first call: none when the counters cannot
// be read then (nothing is mounted for them, so nothing is written later).
// A device the host no longer lists keeps its last content (its sysfs entry
// is gone with it).
void ContainerRenderer::AddBlockStats(std::string_view host_diskstats,
                                      const Result<std::vector<DiskCounters>>& disks,
                                      std::vector<RenderedFile>& out) {
  if (!block_devices_) block_devices_ = disks ? SelectBlockDevices(host_diskstats) : std::vector<std::string>{};
  for (const std::string& name : *block_devices_) {
    const std::string path = "sys-block/" + name;
    if (!disks) {
      out.push_back({path, disks.error()});
      continue;
    }
    auto it = std::find_if(disks->begin(), disks->end(), [&](const DiskCounters& d) { return d.name == name; });
    if (it != disks->end()) out.push_back({path, RenderBlockStat(*it)});
  }
}

// PSI is kept for every v2 cgroup whatever its controllers; in a hybrid
// layout any controller on v2 leads to the container's v2 cgroup.
void ContainerRenderer::AddPressure(std::vector<RenderedFile>& out) {
  if (!Wants("pressure")) return;
  const CgroupDir* v2 = &kAbsent;
  for (const auto& [controller, cg] : record_.cgroups) {
    if (cg.version == 2) v2 = &cg;
  }
  for (const char* resource : {"cpu", "memory", "io"}) {
    if (auto psi = ReadPressure(*v2, resource, reader_); psi) {
      out.push_back({std::string("pressure-") + resource, *psi});
    }
  }
}

// Every CPU mask of drivers/base/cpu.c in the container's numbering: all
// visible CPUs are possible, present, online (and enabled, where the kernel
// has that file), none offline.
void ContainerRenderer::AddSysCpu(std::vector<RenderedFile>& out) {
  if (!Wants("sys-cpu")) return;
  const std::string range = CpuRange(view_.visible.size());
  if (!host_has_enabled_) host_has_enabled_ = ::access((host_.sys_cpu + "/enabled").c_str(), F_OK) == 0;
  for (const char* name : {"online", "possible", "present", "enabled"}) {
    if (std::string_view(name) == "enabled" && !*host_has_enabled_) continue;
    out.push_back({std::string("sys-cpu/") + name, range});
  }
  out.push_back({"sys-cpu/offline", std::string("\n")});
}

}  // namespace prochook
