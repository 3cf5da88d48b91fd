// CPU cost of the renderers: what one refresh of a container's files costs
// as the host grows. The renderer refreshes every file of every container
// once per interval, and /proc/cpuinfo and /proc/stat grow with the host's
// CPU count, so the figures that matter are per render at 2, 64 and 256
// host CPUs (the /N suffix). Host files are synthesized in the kernel's
// formats (this machine's as templates); the container sees half of the
// host's CPUs (cpuset 0..N/2-1).
//  - BM_Parse*: the parse of a host file alone.
//  - BM_Render*: what a refresh does for one file from text already read
//    (parse the host file, render the container's).
//  - BM_ContainerRender: ContainerRenderer::Render over a fixture tree on
//    disk (host /proc and /sys, a cgroup v2 container), file reads
//    included: the per-refresh cost of one container.
//
//   bazel build -c opt //bench:renderers_bench
//   bazel-bin/bench/renderers_bench [--benchmark_filter=RE] [--benchmark_format=json]
#include <benchmark/benchmark.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <numeric>
#include <optional>
#include <string>
#include <vector>

#include "common/io.h"
#include "common/proc.h"
#include "renderer/cpu_usage.h"
#include "renderer/cpu_view.h"
#include "renderer/cpuinfo.h"
#include "renderer/diskstats.h"
#include "renderer/files.h"
#include "renderer/loadavg.h"
#include "renderer/meminfo.h"
#include "renderer/memory.h"
#include "renderer/stat.h"
#include "renderer/swaps.h"
#include "renderer/tasks.h"
#include "renderer/uptime.h"
#include "state/record.h"

namespace prochook {
namespace {

constexpr uint64_t kBtime = 1795361617;
constexpr double kHostUptimeS = 37228.28;
constexpr uint64_t kMiB = 1 << 20;

// ---- Synthetic host files ----------------------------------------------

// This machine's /proc/meminfo (an x86 VM, 24 GiB), with an 8 GiB zram swap.
constexpr char kMeminfo[] = R"(MemTotal:       24683620 kB
MemFree:        22427568 kB
MemAvailable:   23432672 kB
Buffers:           13408 kB
Cached:          1070964 kB
SwapCached:            0 kB
Active:           675704 kB
Inactive:        1129836 kB
Active(anon):       1664 kB
Inactive(anon):   728352 kB
Active(file):     674040 kB
Inactive(file):   401484 kB
Unevictable:       11364 kB
Mlocked:           10308 kB
SwapTotal:       8388604 kB
SwapFree:        8388604 kB
Zswap:                 0 kB
Zswapped:              0 kB
Dirty:             70116 kB
Writeback:             0 kB
AnonPages:        732552 kB
Mapped:            73968 kB
Shmem:              8968 kB
KReclaimable:     232172 kB
Slab:             267668 kB
SReclaimable:     232172 kB
SUnreclaim:        35496 kB
KernelStack:        2976 kB
PageTables:         4896 kB
SecPageTables:         0 kB
NFS_Unstable:          0 kB
Bounce:                0 kB
WritebackTmp:          0 kB
CommitLimit:    12341808 kB
Committed_AS:    1019544 kB
VmallocTotal:   34359738367 kB
VmallocUsed:       15760 kB
VmallocChunk:          0 kB
Percpu:              976 kB
AnonHugePages:         0 kB
ShmemHugePages:        0 kB
ShmemPmdMapped:        0 kB
FileHugePages:         0 kB
FilePmdMapped:         0 kB
Balloon:               0 kB
HugePages_Total:       0
HugePages_Free:        0
HugePages_Rsvd:        0
HugePages_Surp:        0
Hugepagesize:       2048 kB
Hugetlb:               0 kB
DirectMap4k:       30720 kB
DirectMap2M:    25135104 kB
)";

// block/genhd.c diskstats_show: loop devices, a partitioned virtio disk, zram.
constexpr char kDiskstats[] =
    "   7       0 loop0 236 0 5087 29 14565 541 221824 14152 0 14060 26144 0 0 0 0 14017 11962\n"
    "   7       1 loop1 792 0 17904 67 112 40 33544 52 0 80 159 0 0 0 0 72 40\n"
    " 254       0 vda 520571 63075 26756122 211824 320088 156196 35949848 160572 0 108136 "
    "413591 147277 114 28332672 26732 64273 14462\n"
    " 254       1 vda1 518342 63075 26701850 211503 320088 156196 35949848 160572 0 107992 "
    "398807 147277 114 28332672 26732 0 0\n"
    " 254      15 vda15 1204 0 40286 163 0 0 0 0 0 140 163 0 0 0 0 0 0\n"
    " 253       0 zram0 402 0 3216 4 2048 0 16384 12 0 36 16 0 0 0 0 0 0\n";

// mm/swapfile.c swap_show: the path padded to column 40.
constexpr char kSwaps[] =
    "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n"
    "/dev/zram0                              partition\t8388604\t\t0\t\t100\n";

constexpr char kLoadavg[] = "2.30 2.29 1.56 3/185 4389\n";

// The container's cgroup v2 memory.stat (Linux 6.1's keys), 187 MiB charged.
constexpr char kMemoryStat[] = R"(anon 121634816
file 62914560
kernel 8437760
kernel_stack 491520
pagetables 1048576
sec_pagetables 0
percpu 368640
sock 0
vmalloc 8192
shmem 4194304
zswap 0
zswapped 0
file_mapped 20971520
file_dirty 409600
file_writeback 0
swapcached 0
anon_thp 0
file_thp 0
shmem_thp 0
inactive_anon 125829120
active_anon 4096
inactive_file 41943040
active_file 20971520
unevictable 0
slab_reclaimable 5242880
slab_unreclaimable 1310720
slab 6553600
workingset_refault_anon 0
workingset_refault_file 0
workingset_activate_anon 0
workingset_activate_file 0
workingset_restore_anon 0
workingset_restore_file 0
workingset_nodereclaim 0
pgscan 0
pgsteal 0
pgscan_kswapd 0
pgscan_direct 0
pgsteal_kswapd 0
pgsteal_direct 0
pgfault 412345
pgmajfault 123
pgrefill 0
pgactivate 5120
pgdeactivate 0
pglazyfree 0
pglazyfreed 0
zswpin 0
zswpout 0
thp_fault_alloc 0
thp_collapse_alloc 0
)";
constexpr uint64_t kMemoryCurrent = 187 * kMiB;
constexpr uint64_t kMemoryMax = 256 * kMiB;
constexpr uint64_t kSwapCurrent = 4 * kMiB;

constexpr char kCpuStat[] =
    "usage_usec 48630000\nuser_usec 35120000\nsystem_usec 13510000\n"
    "nr_periods 372283\nnr_throttled 1204\nthrottled_usec 8120000\nnr_bursts 0\nburst_usec 0\n";

// The container's I/O on the disk and on zram (swap).
constexpr char kIoStat[] =
    "254:0 rbytes=4915200 wbytes=122880 rios=120 wios=30 dbytes=0 dios=0\n"
    "253:0 rbytes=0 wbytes=40960 rios=0 wios=10 dbytes=0 dios=0\n";

constexpr char kPressure[] =
    "some avg10=1.00 avg60=0.50 avg300=0.10 total=12345\n"
    "full avg10=0.00 avg60=0.00 avg300=0.00 total=0\n";

// A deterministic spread of plausible counter values around base.
uint64_t Spread(uint64_t seed, uint64_t base) {
  return base + (seed * 2654435761u) % (base / 4 + 1);
}

// One x86 processor block, this machine's (an AMD EPYC VM), with the
// topology fields of the given CPU.
std::string CpuinfoBlock(int processor, int physical_id, int siblings, int core_id,
                         int cpu_cores, int apicid) {
  const std::string apic = std::to_string(apicid);
  return "processor\t: " + std::to_string(processor) +
         "\nvendor_id\t: AuthenticAMD\ncpu family\t: 26\nmodel\t\t: 2\nmodel name\t: AMD EPYC\n"
         "stepping\t: 1\ncpu MHz\t\t: 2096.022\ncache size\t: 1024 KB\nphysical id\t: " +
         std::to_string(physical_id) + "\nsiblings\t: " + std::to_string(siblings) +
         "\ncore id\t\t: " + std::to_string(core_id) + "\ncpu cores\t: " +
         std::to_string(cpu_cores) + "\napicid\t\t: " + apic + "\ninitial apicid\t: " + apic +
         "\nfpu\t\t: yes\nfpu_exception\t: yes\ncpuid level\t: 13\nwp\t\t: yes\n"
         "flags\t\t: fpu vme de pse tsc msr pae mce cx8 apic sep pge mca cmov pat pse36 clflush "
         "mmx fxsr sse sse2 ht syscall nx mmxext lm constant_tsc rep_good nopl xtopology "
         "tsc_reliable nonstop_tsc cpuid extd_apicid tsc_known_freq pni pclmulqdq ssse3 fma cx16 "
         "sse4_1 sse4_2 x2apic movbe popcnt tsc_deadline_timer aes xsave avx f16c rdrand "
         "hypervisor lahf_lm cr8_legacy misalignsse 3dnowprefetch topoext pti        vmmcall bmi1 "
         "avx2 bmi2 erms avx512f avx512dq adx avx512ifma clflushopt clwb avx512cd sha_ni avx512bw "
         "avx512vl xsaveopt xsavec xgetbv1 avx_vnni avx512_bf16 clzero xsaveerptr arat avx512vbmi "
         "avx512_vbmi2 gfni vaes vpclmulqdq avx512_vnni avx512_bitalg avx512_vpopcntdq movdiri "
         "movdir64b fsrm avx512_vp2intersect\n"
         "bugs\t\t: cpu_meltdown spectre_v1 spectre_v2 spec_store_bypass srso spectre_v2_user\n"
         "bogomips\t: 4192.04\nTLB size\t: 192 4K pages\nclflush size\t: 64\n"
         "cache_alignment\t: 64\naddress sizes\t: 48 bits physical, 48 bits virtual\n"
         "power management:\n\n";
}

// n CPUs numbered as Linux does on x86: below 64 CPUs one package of
// single-threaded cores, else two packages of two-thread cores with every
// core's first thread numbered before the second threads.
std::string HostCpuinfo(int n) {
  const int packages = n >= 64 ? 2 : 1;
  const int threads = n >= 64 ? 2 : 1;
  const int cores = n / (packages * threads);
  std::string out;
  for (int p = 0; p < n; ++p) {
    const int thread = p / (packages * cores);
    const int package = p % (packages * cores) / cores;
    const int core = p % cores;
    out += CpuinfoBlock(p, package, cores * threads, core, cores,
                        (package * cores + core) * threads + thread);
  }
  return out;
}

void AppendColumns(std::string& out, const std::string& label, const StatColumns& cols) {
  out += label;
  for (uint64_t v : cols) out += " " + std::to_string(v);
  out += '\n';
}

// fs/proc/stat.c. The intr line has one count per IRQ number: 424 on this
// 2-CPU machine, growing by 8 vectors per CPU (arch_probe_nr_irqs).
std::string HostStatText(int n) {
  std::vector<StatColumns> cpus(n);
  StatColumns total{};
  for (int i = 0; i < n; ++i) {
    const uint64_t s = static_cast<uint64_t>(i);
    cpus[i] = {Spread(s, 320000), Spread(s + 1, 200), Spread(s + 2, 100000),
               Spread(s + 3, 3200000), Spread(s + 4, 1500), 0, Spread(s + 5, 2000), 0, 0, 0};
    for (size_t k = 0; k < total.size(); ++k) total[k] += cpus[i][k];
  }
  std::string out;
  AppendColumns(out, "cpu ", total);
  for (int i = 0; i < n; ++i) AppendColumns(out, "cpu" + std::to_string(i), cpus[i]);

  const int irqs = 408 + 8 * n;
  std::string counts;
  uint64_t sum = 0;
  for (int irq = 0; irq < irqs; ++irq) {
    const uint64_t c = irq % 7 == 3 ? Spread(irq, 40000) : 0;
    sum += c;
    counts += " " + std::to_string(c);
  }
  out += "intr " + std::to_string(sum) + counts + "\n";
  out += "ctxt " + std::to_string(Spread(n, 13893431) * n) + "\n";
  out += "btime " + std::to_string(kBtime) + "\n";
  out += "processes 231375\nprocs_running 3\nprocs_blocked 0\n";
  out += "softirq 5572477 0 889862 2554 15105 726917 0 12 2157948 0 1780079\n";
  return out;
}

// "up idle\n": idle is summed over the CPUs, mostly idle ones here.
std::string HostUptime(int n) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.2f %.2f\n", kHostUptimeS, kHostUptimeS * n * 0.87);
  return buf;
}

std::vector<int> FirstCpus(int n) {
  std::vector<int> cpus(n);
  std::iota(cpus.begin(), cpus.end(), 0);
  return cpus;
}

// The container's CPUs: the first half of the host's, at least one.
int ContainerCpus(int n) { return std::max(1, n / 2); }

struct Host {
  std::string cpuinfo, stat, uptime;
  std::string online;  // /sys/devices/system/cpu/online
  std::string cpuset;  // the container's cpuset.cpus.effective
};

// Built once per CPU count (benchmarks run one at a time).
const Host& HostOf(int n) {
  static std::map<int, Host> hosts;
  auto [it, fresh] = hosts.try_emplace(n);
  if (fresh) {
    Host& h = it->second;
    h.cpuinfo = HostCpuinfo(n);
    h.stat = HostStatText(n);
    h.uptime = HostUptime(n);
    h.online = FormatCpuList(FirstCpus(n)) + "\n";
    h.cpuset = FormatCpuList(FirstCpus(ContainerCpus(n))) + "\n";
  }
  return it->second;
}

CpuView ContainerView(int n) {
  const CpuLimits limits{FirstCpus(ContainerCpus(n)), std::nullopt};
  return ComputeCpuView(limits, FirstCpus(n), CpuViewMode::kCpusetAndQuota);
}

// cgroup v2 (cpu.stat): totals only.
CpuUsage UsageV2() {
  CpuUsage u;
  u.user_ns = 35'120'000'000;
  u.system_ns = 13'510'000'000;
  return u;
}

// cgroup v1 (cpuacct.usage_all): every host CPU, also those outside the
// cpuset (time from before a cpuset change).
CpuUsage UsageV1(int n) {
  CpuUsage u;
  u.per_cpu = true;
  for (int i = 0; i < n; ++i) {
    const CpuTime t{Spread(i, 400'000'000), Spread(i + 1, 150'000'000)};
    u.by_host_cpu[i] = t;
    u.user_ns += t.user_ns;
    u.system_ns += t.system_ns;
  }
  return u;
}

// One second of a busy refresh interval: every CPU gains user and system time.
void Advance(CpuUsage& u) {
  constexpr uint64_t kUser = 6'000'000, kSystem = 2'000'000;
  if (u.per_cpu) {
    for (auto& [cpu, t] : u.by_host_cpu) {
      t.user_ns += kUser;
      t.system_ns += kSystem;
      u.user_ns += kUser;
      u.system_ns += kSystem;
    }
  } else {
    u.user_ns += kUser;
    u.system_ns += kSystem;
  }
}

MemorySnapshot Memory() {
  MemorySnapshot m;
  m.limit = kMemoryMax;
  m.usage = kMemoryCurrent;
  m.swap_usage = kSwapCurrent;  // swap_limit: none (memory.swap.max "max")
  m.stat = ParseFlatKeyed(kMemoryStat);
  return m;
}

// ---- Fixture tree for ContainerRenderer --------------------------------

// A host (proc/, sys/devices/system/cpu/) and a container's cgroup v2
// directory cg/pod/ct in a temporary directory, laid out as in
// tests/files_test.cc's v2 case; removed on destruction. The container's
// one task is this process: its /proc/self/{stat,status} are copied in.
class FixtureTree {
 public:
  explicit FixtureTree(int n) {
    std::error_code ec;
    std::filesystem::path tmp = std::filesystem::temp_directory_path(ec);
    std::string tmpl = ((ec ? "/tmp" : tmp) / "prochook-renderers-bench-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) {
      error_ = "mkdtemp failed";
      return;
    }
    root_ = tmpl;
    const Host& host = HostOf(n);
    const std::string pid = std::to_string(::getpid());
    auto self_stat = ReadFile("/proc/self/stat");
    auto self_status = ReadFile("/proc/self/status");
    if (!self_stat || !self_status) {
      error_ = "cannot read /proc/self";
      return;
    }
    if (auto start = ParseStartTime(*self_stat)) pid_start_ = *start;
    const std::string quota = std::to_string(ContainerCpus(n) * 100000) + " 100000\n";
    const std::map<std::string, std::string> files = {
        {"proc/meminfo", kMeminfo},
        {"proc/stat", host.stat},
        {"proc/cpuinfo", host.cpuinfo},
        {"proc/uptime", host.uptime},
        {"proc/diskstats", kDiskstats},
        {"proc/swaps", kSwaps},
        {"proc/loadavg", kLoadavg},
        {"proc/" + pid + "/stat", *self_stat},
        {"proc/" + pid + "/status", *self_status},
        {"sys/devices/system/cpu/online", host.online},
        {"cg/pod/cpu.max", "max 100000\n"},
        {"cg/pod/memory.max", "max\n"},
        {"cg/pod/memory.swap.max", "max\n"},
        {"cg/pod/ct/cpuset.cpus.effective", host.cpuset},
        {"cg/pod/ct/cpu.max", quota},
        {"cg/pod/ct/cpu.stat", kCpuStat},
        {"cg/pod/ct/memory.max", std::to_string(kMemoryMax) + "\n"},
        {"cg/pod/ct/memory.current", std::to_string(kMemoryCurrent) + "\n"},
        {"cg/pod/ct/memory.stat", kMemoryStat},
        {"cg/pod/ct/memory.swap.max", "max\n"},
        {"cg/pod/ct/memory.swap.current", std::to_string(kSwapCurrent) + "\n"},
        {"cg/pod/ct/io.stat", kIoStat},
        {"cg/pod/ct/cgroup.procs", pid + "\n"},
        {"cg/pod/ct/cgroup.threads", pid + "\n"},
        {"cg/pod/ct/cpu.pressure", kPressure},
        {"cg/pod/ct/memory.pressure", kPressure},
        {"cg/pod/ct/io.pressure", kPressure},
    };
    for (const auto& [rel, content] : files) {
      std::filesystem::path p = std::filesystem::path(root_) / rel;
      std::filesystem::create_directories(p.parent_path(), ec);
      std::ofstream out(p, std::ios::binary | std::ios::trunc);
      out << content;
      out.close();
      if (ec || out.fail()) {
        error_ = "cannot write " + p.string();
        return;
      }
    }
  }
  ~FixtureTree() {
    std::error_code ec;
    if (!root_.empty()) std::filesystem::remove_all(root_, ec);
  }
  FixtureTree(const FixtureTree&) = delete;
  FixtureTree& operator=(const FixtureTree&) = delete;

  // Empty when the tree is complete.
  const std::string& error() const { return error_; }

  ContainerRecord Record() const {
    ContainerRecord r;
    r.id = "bench";
    r.pid = ::getpid();
    r.pid_start = pid_start_;
    r.files = {"meminfo", "cpuinfo", "stat", "uptime", "loadavg",
               "diskstats", "swaps", "pressure", "sys-cpu"};
    for (const char* c : {"cpuset", "cpu", "cpuacct", "memory", "blkio", "pids"}) {
      r.cgroups[c] = {2, root_ + "/cg/pod/ct", root_ + "/cg"};
    }
    return r;
  }

  HostPaths Paths() const { return {root_ + "/proc", root_ + "/sys/devices/system/cpu"}; }

 private:
  std::string root_, error_;
  uint64_t pid_start_ = 0;
};

// ---- Benchmarks ---------------------------------------------------------

void HostCpuCounts(benchmark::internal::Benchmark* b) {
  for (int n : {2, 64, 256}) b->Arg(n);
}

// The sizes of the host text read and of the file rendered (0: none).
void SetBytes(benchmark::State& state, size_t in, size_t out) {
  if (in != 0) state.counters["in_bytes"] = static_cast<double>(in);
  if (out != 0) state.counters["out_bytes"] = static_cast<double>(out);
}

void BM_ParseCpuinfo(benchmark::State& state) {
  const Host& host = HostOf(static_cast<int>(state.range(0)));
  for (auto _ : state) {
    Cpuinfo parsed = ParseCpuinfo(host.cpuinfo);
    benchmark::DoNotOptimize(parsed);
  }
  SetBytes(state, host.cpuinfo.size(), 0);
}
BENCHMARK(BM_ParseCpuinfo)->Apply(HostCpuCounts);

void BM_RenderCpuinfo(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  const Host& host = HostOf(n);
  const CpuView view = ContainerView(n);
  size_t out_bytes = 0;
  for (auto _ : state) {
    std::string out = RenderCpuinfo(ParseCpuinfo(host.cpuinfo), view);
    benchmark::DoNotOptimize(out);
    out_bytes = out.size();
  }
  SetBytes(state, host.cpuinfo.size(), out_bytes);
}
BENCHMARK(BM_RenderCpuinfo)->Apply(HostCpuCounts);

void BM_ParseHostStat(benchmark::State& state) {
  const Host& host = HostOf(static_cast<int>(state.range(0)));
  for (auto _ : state) {
    HostStat parsed = ParseHostStat(host.stat);
    benchmark::DoNotOptimize(parsed);
  }
  SetBytes(state, host.stat.size(), 0);
}
BENCHMARK(BM_ParseHostStat)->Apply(HostCpuCounts);

// One StatState across iterations, the usage and the clock advancing a
// second per iteration, as successive refreshes of one container.
void RenderStatLoop(benchmark::State& state, CpuUsage usage) {
  const int n = static_cast<int>(state.range(0));
  const Host& host = HostOf(n);
  StatInput in;
  in.view = ContainerView(n);
  in.usage = std::move(usage);
  in.elapsed_ticks = static_cast<uint64_t>(kHostUptimeS * kUserHz);
  in.procs_running = 1;
  in.procs_blocked = 0;
  in.btime = kBtime;
  StatState last;
  size_t out_bytes = 0;
  for (auto _ : state) {
    in.host = ParseHostStat(host.stat);
    std::string out = RenderStat(in, last);
    benchmark::DoNotOptimize(out);
    out_bytes = out.size();
    Advance(*in.usage);
    in.elapsed_ticks += kUserHz;
  }
  SetBytes(state, host.stat.size(), out_bytes);
}

void BM_RenderStatV2(benchmark::State& state) { RenderStatLoop(state, UsageV2()); }
BENCHMARK(BM_RenderStatV2)->Apply(HostCpuCounts);

void BM_RenderStatV1(benchmark::State& state) {
  RenderStatLoop(state, UsageV1(static_cast<int>(state.range(0))));
}
BENCHMARK(BM_RenderStatV1)->Apply(HostCpuCounts);

void BM_ParseMeminfo(benchmark::State& state) {
  for (auto _ : state) {
    std::vector<MeminfoLine> parsed = ParseMeminfo(kMeminfo);
    benchmark::DoNotOptimize(parsed);
  }
  SetBytes(state, sizeof kMeminfo - 1, 0);
}
BENCHMARK(BM_ParseMeminfo);

void BM_RenderMeminfo(benchmark::State& state) {
  const std::optional<MemorySnapshot> memory = Memory();
  size_t out_bytes = 0;
  for (auto _ : state) {
    std::string out = RenderMeminfo(ParseMeminfo(kMeminfo), memory);
    benchmark::DoNotOptimize(out);
    out_bytes = out.size();
  }
  SetBytes(state, sizeof kMeminfo - 1, out_bytes);
}
BENCHMARK(BM_RenderMeminfo);

// A refresh a second: Sample folds a 5 s period every fifth iteration.
void BM_RenderLoadavg(benchmark::State& state) {
  const TaskSample tasks{2, 1, 37, 4389};
  LoadAverage load;
  int64_t now_ms = 0;
  size_t out_bytes = 0;
  for (auto _ : state) {
    load.Sample(tasks.running + tasks.uninterruptible, now_ms);
    std::string out = RenderLoadavg(load, tasks);
    benchmark::DoNotOptimize(out);
    out_bytes = out.size();
    now_ms += 1000;
  }
  SetBytes(state, 0, out_bytes);
}
BENCHMARK(BM_RenderLoadavg);

void BM_RenderDiskstats(benchmark::State& state) {
  size_t out_bytes = 0;
  for (auto _ : state) {
    std::string out = RenderDiskstats(kDiskstats, ParseIoStat(kIoStat));
    benchmark::DoNotOptimize(out);
    out_bytes = out.size();
  }
  SetBytes(state, sizeof kDiskstats - 1, out_bytes);
}
BENCHMARK(BM_RenderDiskstats);

void BM_RenderSwaps(benchmark::State& state) {
  const std::optional<MemorySnapshot> memory = Memory();
  size_t out_bytes = 0;
  for (auto _ : state) {
    std::string out = RenderSwaps(kSwaps, memory, true);
    benchmark::DoNotOptimize(out);
    out_bytes = out.size();
  }
  SetBytes(state, sizeof kSwaps - 1, out_bytes);
}
BENCHMARK(BM_RenderSwaps);

// The container clock (with the host's, /proc/uptime is not rendered).
void BM_RenderUptime(benchmark::State& state) {
  size_t out_bytes = 0;
  for (auto _ : state) {
    const UptimeFigures fig = ComputeUptime(UptimeMode::kContainer, kHostUptimeS, kBtime, 500000);
    std::string out = RenderUptime(fig.uptime_s, 12345.67);
    benchmark::DoNotOptimize(out);
    out_bytes = out.size();
  }
  SetBytes(state, 0, out_bytes);
}
BENCHMARK(BM_RenderUptime);

// The view every refresh starts from: the host's online list and the
// cpuset parsed, then intersected (the quota allows the whole cpuset).
void BM_ComputeCpuView(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  const Host& host = HostOf(n);
  const std::optional<double> quota = ContainerCpus(n);
  for (auto _ : state) {
    auto online = ParseCpuList(host.online);
    auto cpuset = ParseCpuList(host.cpuset);
    CpuView view = ComputeCpuView(CpuLimits{std::move(*cpuset), quota}, *online,
                                  CpuViewMode::kCpusetAndQuota);
    benchmark::DoNotOptimize(view);
  }
}
BENCHMARK(BM_ComputeCpuView)->Apply(HostCpuCounts);

// One whole refresh, file reads included: cpu view, meminfo, swaps,
// cpuinfo, tasks, stat, loadavg, diskstats, three pressure files and
// sys-cpu. Each iteration is a second later than the one before.
void BM_ContainerRender(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  FixtureTree tree(n);
  if (!tree.error().empty()) {
    state.SkipWithError(tree.error().c_str());
    return;
  }
  ContainerRenderer renderer(tree.Record(), tree.Paths());
  // A figure over a failing refresh would time the error paths: check once.
  size_t files = 0, out_bytes = 0;
  for (const RenderedFile& f : renderer.Render(0)) {
    if (!f.content) {
      const std::string why = f.path + ": " + f.content.error().message();
      state.SkipWithError(why.c_str());
      return;
    }
    ++files;
    out_bytes += f.content->size();
  }
  if (renderer.view().visible.size() != static_cast<size_t>(ContainerCpus(n))) {
    state.SkipWithError("the fixture's CPU view is not the container's half of the host");
    return;
  }
  int64_t now_ms = 0;
  for (auto _ : state) {
    now_ms += 1000;
    std::vector<RenderedFile> out = renderer.Render(now_ms);
    benchmark::DoNotOptimize(out);
  }
  state.counters["files"] = static_cast<double>(files);
  state.counters["out_bytes"] = static_cast<double>(out_bytes);
}
BENCHMARK(BM_ContainerRender)->Apply(HostCpuCounts)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace prochook

BENCHMARK_MAIN();
