// ContainerRenderer over fixture trees: a 4-CPU host and a container's
// cgroups laid out as v1, v2 and hybrid. Every file is rendered from one
// snapshot, so the files must agree with each other.
#include <doctest/doctest.h>

#include <fcntl.h>
#include <unistd.h>

#include <filesystem>
#include <map>
#include <regex>
#include <string>

#include "common/io.h"
#include "common/log.h"
#include "common/text.h"
#include "renderer/files.h"
#include "tests/testing.h"

using namespace prochook;
using prochook::testing::TempDir;

namespace {

// One processor block of this machine's /proc/cpuinfo (trimmed flags).
std::string CpuinfoBlock(int n) {
  return "processor\t: " + std::to_string(n) +
         "\nvendor_id\t: AuthenticAMD\ncpu family\t: 26\nmodel\t\t: 2\nmodel name\t: AMD EPYC\n"
         "stepping\t: 1\ncpu MHz\t\t: 2096.022\ncache size\t: 1024 KB\nphysical id\t: 0\n"
         "siblings\t: 4\ncore id\t\t: " +
         std::to_string(n) + "\ncpu cores\t: 4\napicid\t\t: " + std::to_string(n) +
         "\ninitial apicid\t: " + std::to_string(n) +
         "\nfpu\t\t: yes\nflags\t\t: fpu vme de pse tsc msr\nbogomips\t: 4192.04\n"
         "power management:\n\n";
}

// A 4-CPU, 8 GiB host (kernel formats; values from a real VM).
std::map<std::string, std::string> HostFiles() {
  return {
      {"proc/meminfo",
       "MemTotal:        8388608 kB\nMemFree:         6291456 kB\nMemAvailable:    7340032 kB\n"
       "Buffers:           10240 kB\nCached:           819200 kB\nSwapCached:            0 kB\n"
       "Active:           524288 kB\nInactive:         409600 kB\nShmem:              8192 kB\n"
       "SwapTotal:       2097152 kB\nSwapFree:        2097152 kB\n"},
      {"proc/cpuinfo", CpuinfoBlock(0) + CpuinfoBlock(1) + CpuinfoBlock(2) + CpuinfoBlock(3)},
      {"proc/stat",
       "cpu  40000 0 20000 4000000 100 0 50 0 0 0\n"
       "cpu0 10000 0 5000 1000000 25 0 12 0 0 0\n"
       "cpu1 10000 0 5000 1000000 25 0 12 0 0 0\n"
       "cpu2 10000 0 5000 1000000 25 0 13 0 0 0\n"
       "cpu3 10000 0 5000 1000000 25 0 13 0 0 0\n"
       "intr 2747255 0 0 0\nctxt 3278852\nbtime 1795361617\nprocesses 38684\n"
       "procs_running 3\nprocs_blocked 0\nsoftirq 2145323 0 398218 116 6406 218341 0 10 1215660 0 306572\n"},
      {"proc/uptime", "10000.50 39000.00\n"},
      {"proc/vmstat", "nr_free_pages 1572864\nnr_anon_pages 131072\npgpgin 5486241\npgpgout 3658240\n"
                      "pswpin 0\npswpout 0\npgfault 99999999\npgmajfault 3000\n"},
      {"proc/swaps",
       "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n"
       "/dev/zram0                              partition\t2097148\t\t0\t\t100\n"},
      {"proc/diskstats",
       " 254       0 vda 195308 36670 10972482 39362 39742 44294 7316480 22818 0 28700 66479 "
       "19003 108 4451704 3473 1705 825\n"},
      // The container's one task, pid 4242 on the host, 1 in its namespace.
      {"proc/4242/stat", "4242 (sleep) R 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 500000 0 0\n"},
      {"proc/4242/task/4242/stat", "4242 (sleep) R 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 500000 0 0\n"},
      {"proc/4242/task/4242/status", "Name:\tsleep\nNSpid:\t4242\t1\n"},
      {"sys/online", "0-3\n"},
  };
}

ContainerRecord Record() {
  ContainerRecord r;
  r.id = "ct";
  r.pid = 4242;
  r.pid_start = 500000;
  r.files = {"meminfo", "cpuinfo", "stat", "uptime", "loadavg", "diskstats",
             "swaps", "pressure", "sys-cpu", "vmstat", "sys-block"};
  return r;
}

std::map<std::string, std::string> RenderAll(ContainerRenderer& renderer, int64_t now_ms) {
  std::map<std::string, std::string> out;
  for (RenderedFile& f : renderer.Render(now_ms)) {
    INFO("file " << f.path << ": " << (f.content.ok() ? "" : f.content.error().message()));
    REQUIRE(f.content.ok());
    out[f.path] = *f.content;
  }
  return out;
}

int Count(const std::string& text, const char* re) {
  std::regex r(re, std::regex::multiline);
  return static_cast<int>(std::distance(std::sregex_iterator(text.begin(), text.end(), r),
                                        std::sregex_iterator()));
}

// The CPU count every CPU-listing file shows; fails the test if they differ.
int AgreedCpus(const std::map<std::string, std::string>& f) {
  const int cpuinfo = Count(f.at("cpuinfo"), "^processor\t: ");
  CHECK(Count(f.at("stat"), "^cpu[0-9]+ ") == cpuinfo);
  CHECK(f.at("sys-cpu/online") == (cpuinfo == 1 ? "0\n" : "0-" + std::to_string(cpuinfo - 1) + "\n"));
  CHECK(f.at("sys-cpu/possible") == f.at("sys-cpu/online"));
  CHECK(f.at("sys-cpu/present") == f.at("sys-cpu/online"));
  CHECK(f.at("sys-cpu/offline") == "\n");
  return cpuinfo;
}

std::string Field(const std::string& meminfo, const std::string& key) {
  std::smatch m;
  REQUIRE(std::regex_search(meminfo, m, std::regex("(^|\n)" + key + ":\\s+([0-9]+) kB\n")));
  return m[2];
}

}  // namespace

TEST_CASE("ContainerRenderer v1: 1.5 CPUs of cpuset 1-3, 256 MiB, files agree") {
  TempDir t;
  auto files = HostFiles();
  files.merge(std::map<std::string, std::string>{
      {"cg/cpuset/ct/cpuset.cpus", "1-3\n"},
      {"cg/cpuset/ct/cpuset.effective_cpus", "1-3\n"},
      {"cg/cpu/ct/cpu.cfs_quota_us", "150000\n"},
      {"cg/cpu/ct/cpu.cfs_period_us", "100000\n"},
      {"cg/cpu/ct/tasks", "4242\n"},
      {"cg/cpuacct/ct/cpuacct.usage_all",
       "cpu user system\n0 0 0\n1 3000000000 1000000000\n2 1000000000 0\n3 0 0\n"},
      {"cg/memory/ct/memory.limit_in_bytes", "268435456\n"},
      {"cg/memory/ct/memory.usage_in_bytes", "300000000\n"},  // above the limit
      {"cg/memory/ct/memory.memsw.limit_in_bytes", "536870912\n"},
      {"cg/memory/ct/memory.memsw.usage_in_bytes", "310000000\n"},
      {"cg/memory/ct/memory.stat",
       "cache 4096\nrss 1000\nshmem 0\ntotal_cache 8192\ntotal_rss 300000000\ntotal_shmem 0\n"
       "total_active_anon 1000\ntotal_inactive_anon 0\ntotal_active_file 4096\n"
       "total_inactive_file 4096\ntotal_pgpgin 77\ntotal_pgfault 5000\ntotal_pgmajfault 7\n"},
      {"cg/blkio/ct/blkio.throttle.io_serviced_recursive",
       "254:0 Read 120\n254:0 Write 30\n254:0 Discard 0\nTotal 150\n"},
      {"cg/blkio/ct/blkio.throttle.io_service_bytes_recursive",
       "254:0 Read 4915200\n254:0 Write 122880\n254:0 Discard 0\nTotal 5038080\n"},
  });
  t.Write(files);
  ContainerRecord r = Record();
  for (const char* c : {"cpuset", "cpu", "cpuacct", "memory", "blkio"}) {
    r.cgroups[c] = {1, t.path() + "/cg/" + c + "/ct", t.path() + "/cg/" + c};
  }
  ContainerRenderer renderer(r, {t.path() + "/proc", t.path() + "/sys"});
  auto f = RenderAll(renderer, 0);

  CHECK(AgreedCpus(f) == 2);  // ceil(1.5) of the 3 CPUs of the cpuset
  CHECK(renderer.view().visible == std::vector<int>{1, 2});
  CHECK(Field(f.at("meminfo"), "MemTotal") == "262144");
  CHECK(Field(f.at("meminfo"), "MemFree") == "0");  // usage above the limit: no underflow
  CHECK(Field(f.at("meminfo"), "SwapTotal") == "262144");
  CHECK(f.at("swaps").find("\n") != f.at("swaps").size() - 1);  // one entry below the header
  // The cpuset's three CPUs' time is folded onto the two shown: 4 s user, 1 s system.
  CHECK(f.at("stat").rfind("cpu  400 0 100 ", 0) == 0);
  CHECK(f.at("stat").find("\nbtime 1795361617\n") != std::string::npos);
  CHECK(f.at("stat").find("\nprocs_running 1\n") != std::string::npos);
  CHECK(f.count("uptime") == 0);  // host clock: the kernel's own file stays
  CHECK(f.at("loadavg").find(" 1/1 1\n") != std::string::npos);
  CHECK(f.at("diskstats") ==
        " 254       0 vda 120 0 9600 0 30 0 240 0 0 0 0 0 0 0 0 0 0\n");
  CHECK(f.count("pressure-cpu") == 0);  // v1 has no PSI per cgroup
  // blkio's bytes in KiB; memory.stat's events; MemFree (0) in pages.
  CHECK(f.at("vmstat") ==
        "nr_free_pages 0\nnr_anon_pages 73242\npgpgin 4800\npgpgout 120\npswpin 0\npswpout 0\n"
        "pgfault 5000\npgmajfault 7\n");

  SUBCASE("cpuinfo is rendered again when the CPU view changes, else every 10th refresh") {
    auto second = RenderAll(renderer, 100);
    CHECK(second.count("cpuinfo") == 0);  // same view: the last one stays
    CHECK(second.count("stat") == 1);
    t.Write({{"cg/cpu/ct/cpu.cfs_quota_us", "300000\n"}});  // 3 CPUs now
    auto third = RenderAll(renderer, 200);
    REQUIRE(third.count("cpuinfo") == 1);
    CHECK(AgreedCpus(third) == 3);
    int rendered = 0;
    for (int i = 0; i < 10; ++i) rendered += static_cast<int>(RenderAll(renderer, 300 + i * 100).count("cpuinfo"));
    CHECK(rendered == 1);
  }

  SUBCASE("swap hidden, cpuset-only view, container clock") {
    r.show_swap = false;
    r.cpu_view_quota = false;
    r.container_uptime = true;
    ContainerRenderer other(r, {t.path() + "/proc", t.path() + "/sys"});
    auto g = RenderAll(other, 0);
    CHECK(AgreedCpus(g) == 3);
    CHECK(Field(g.at("meminfo"), "SwapTotal") == "0");
    CHECK(Count(g.at("swaps"), "\n") == 1);
    // 10000.50 s of host uptime, the init started at 5000 s: 5000.50 s.
    CHECK(g.at("uptime").rfind("5000.50 ", 0) == 0);
    CHECK(g.at("stat").find("\nbtime 1795366617\n") != std::string::npos);
  }
}

TEST_CASE("ContainerRenderer v2: cpu.max at the parent, memory.max, io.stat, PSI") {
  TempDir t;
  auto files = HostFiles();
  files.merge(std::map<std::string, std::string>{
      {"cg/cpu.max", "max 100000\n"},
      {"cg/pod/cpu.max", "100000 100000\n"},
      {"cg/pod/ct/cpu.max", "max 100000\n"},
      {"cg/pod/ct/cpuset.cpus.effective", "0-3\n"},
      {"cg/pod/ct/cpu.stat", "usage_usec 3000000\nuser_usec 2000000\nsystem_usec 1000000\n"},
      {"cg/pod/ct/cgroup.threads", "4242\n"},
      {"cg/pod/ct/memory.max", "max\n"},
      {"cg/pod/memory.max", "536870912\n"},
      {"cg/pod/ct/memory.current", "104857600\n"},
      {"cg/pod/ct/memory.stat", "anon 100000000\nfile 4096\nshmem 0\nactive_anon 100000000\n"},
      {"cg/pod/ct/memory.swap.current", "0\n"},
      {"cg/pod/ct/memory.swap.max", "max\n"},
      {"cg/pod/ct/io.stat", "254:0 rbytes=4915200 wbytes=122880 rios=120 wios=30 dbytes=0 dios=0\n"},
      {"cg/pod/ct/cpu.pressure",
       "some avg10=1.00 avg60=0.50 avg300=0.10 total=12345\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=0\n"},
      {"cg/pod/ct/memory.pressure",
       "some avg10=0.00 avg60=0.00 avg300=0.00 total=0\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=0\n"},
      {"cg/pod/ct/io.pressure",
       "some avg10=0.00 avg60=0.00 avg300=0.00 total=0\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=0\n"},
  });
  t.Write(files);
  ContainerRecord r = Record();
  // Record keys are v1 names wherever the controller lives.
  for (const char* c : {"cpuset", "cpu", "cpuacct", "memory", "blkio", "pids"}) {
    r.cgroups[c] = {2, t.path() + "/cg/pod/ct", t.path() + "/cg"};
  }
  ContainerRenderer renderer(r, {t.path() + "/proc", t.path() + "/sys"});
  auto first = RenderAll(renderer, 0);
  CHECK(AgreedCpus(first) == 1);  // the parent's quota of one CPU
  CHECK(Field(first.at("meminfo"), "MemTotal") == "524288");
  CHECK(first.at("pressure-cpu").rfind("some avg10=1.00 ", 0) == 0);
  CHECK(first.count("pressure-memory") == 1);
  CHECK(first.count("pressure-io") == 1);
  // v2 has no per-CPU split: the one CPU carries it all (2 s user, 1 s system).
  CHECK(first.at("stat").rfind("cpu  200 0 100 ", 0) == 0);
  CHECK(first.at("diskstats") == " 254       0 vda 120 0 9600 0 30 0 240 0 0 0 0 0 0 0 0 0 0\n");
  // The parent's 512 MiB less 100 MiB used, in pages; anon in pages.
  CHECK(first.at("vmstat") == "nr_free_pages 105472\nnr_anon_pages 24414\npgpgin 4800\npgpgout 120\n"
                              "pswpin 0\npswpout 0\npgfault 0\npgmajfault 0\n");

  // The cgroup's usage turns unreadable: /proc/stat fails this refresh (the
  // writer keeps the last good content) rather than jump to host figures.
  t.Write({{"cg/pod/ct/cpu.stat", "usage_usec 0\n"}});
  for (RenderedFile& f : renderer.Render(1000)) {
    CAPTURE(f.path);
    CHECK(f.content.ok() == (f.path != "stat"));
  }
  // Usage back, lower than before (a recreated cgroup): never backwards.
  t.Write({{"cg/pod/ct/cpu.stat", "usage_usec 100000\nuser_usec 50000\nsystem_usec 50000\n"}});
  auto third = RenderAll(renderer, 2000);
  INFO("third /proc/stat:\n" << third.at("stat"));
  CHECK(third.at("stat").rfind("cpu  200 0 100 ", 0) == 0);
}

TEST_CASE("ContainerRenderer hybrid: v1 cpu and memory, v2 io; missing controllers fall back") {
  TempDir t;
  auto files = HostFiles();
  files.merge(std::map<std::string, std::string>{
      {"v1/memory/ct/memory.limit_in_bytes", "9223372036854771712\n"},  // "no limit" on v1
      {"v1/memory/ct/memory.usage_in_bytes", "1048576\n"},
      {"v1/memory/ct/memory.stat", "total_cache 0\ntotal_rss 1048576\n"},
      {"v2/ct/io.stat", "254:0 rbytes=512 wbytes=0 rios=1 wios=0 dbytes=0 dios=0\n"},
      {"v2/ct/cgroup.threads", "4242\n"},
  });
  t.Write(files);
  ContainerRecord r = Record();
  r.cgroups["memory"] = {1, t.path() + "/v1/memory/ct", t.path() + "/v1/memory"};
  r.cgroups["blkio"] = {2, t.path() + "/v2/ct", t.path() + "/v2"};
  r.cgroups["pids"] = {2, t.path() + "/v2/ct", t.path() + "/v2"};
  ContainerRenderer renderer(r, {t.path() + "/proc", t.path() + "/sys"});
  auto f = RenderAll(renderer, 0);
  CHECK(AgreedCpus(f) == 4);                             // no cpu/cpuset: the host's CPUs
  CHECK(Field(f.at("meminfo"), "MemTotal") == "8388608");  // no limit: the host's memory
  CHECK(Field(f.at("meminfo"), "MemFree") != "8388608");   // but the container's usage
  CHECK(f.at("diskstats") == " 254       0 vda 1 0 1 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n");
  // I/O from v2's io.stat, events from v1's memory.stat (none here: 0, not
  // the host's); no limit, so the gauges are the host's as in meminfo.
  CHECK(f.at("vmstat") == "nr_free_pages 1572864\nnr_anon_pages 131072\npgpgin 0\npgpgout 0\npswpin 0\n"
                          "pswpout 0\npgfault 0\npgmajfault 0\n");
  CHECK(f.at("loadavg").find(" 1/1 1\n") != std::string::npos);
}

TEST_CASE("ContainerRenderer keeps the last CPU view when the host's CPUs or the cpuset cannot be read, and says so once") {
  TempDir t;
  auto files = HostFiles();
  files.erase("sys/online");
  files.merge(std::map<std::string, std::string>{
      {"cg/cpuset/ct/cpuset.effective_cpus", "1-3\n"},
      {"cg/cpu/ct/cpu.cfs_quota_us", "150000\n"},
      {"cg/cpu/ct/cpu.cfs_period_us", "100000\n"},
  });
  t.Write(files);
  // online unreadable from the start: a directory in its place (read: EISDIR).
  std::filesystem::create_directories(t.path() + "/sys/online");
  const std::string log_path = t.path() + "/renderer.log";
  UniqueFd log(::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600));
  ConfigureLog({.fd = log.get(), .syslog = false, .min = LogLevel::kInfo, .tag = "files_test"});
  auto logged = [&] { return ReadFile(log_path).value(); };
  ContainerRecord r = Record();
  r.files = {"sys-cpu"};
  for (const char* c : {"cpuset", "cpu"}) r.cgroups[c] = {1, t.path() + "/cg/" + c + "/ct", t.path() + "/cg/" + c};
  ContainerRenderer renderer(r, {t.path() + "/proc", t.path() + "/sys"});

  // No view yet: the CPUs this process may use stand in for online.
  RenderAll(renderer, 0);
  CHECK_FALSE(renderer.view().visible.empty());
  CHECK(logged().find("warn: CPU view: host CPUs: read " + t.path() + "/sys/online") != std::string::npos);
  CHECK(logged().find("using the CPUs this process may use until it can be read") != std::string::npos);
  REQUIRE(renderer.Degraded().size() == 1);
  CHECK(renderer.Degraded()[0].rfind("CPU view: host CPUs: ", 0) == 0);

  std::filesystem::remove(t.path() + "/sys/online");
  t.Write({{"sys/online", "0-3\n"}});
  CHECK(RenderAll(renderer, 100).at("sys-cpu/online") == "0-1\n");
  CHECK(renderer.view().visible == std::vector<int>{1, 2});
  CHECK(logged().find("info: CPU view: computed again") != std::string::npos);
  CHECK(renderer.Degraded().empty());

  // Malformed, then empty: the last view stays (not one CPU), one warning.
  const size_t before = logged().size();
  t.Write({{"sys/online", "garbage\n"}});
  CHECK(RenderAll(renderer, 200).at("sys-cpu/online") == "0-1\n");
  CHECK(RenderAll(renderer, 300).at("sys-cpu/online") == "0-1\n");
  CHECK(renderer.view().visible == std::vector<int>{1, 2});
  const std::string warned = logged().substr(before);
  CHECK(Count(warned, "CPU view: ") == 1);
  CHECK(warned.find("bad CPU list item \"garbage\"; keeping the last one (2 CPUs)") != std::string::npos);
  t.Write({{"sys/online", ""}});
  RenderAll(renderer, 400);
  CHECK(renderer.view().visible == std::vector<int>{1, 2});
  CHECK(logged().find(t.path() + "/sys/online is empty; keeping the last one") != std::string::npos);

  // The cpuset unreadable (emptied): the view is not widened to every CPU.
  t.Write({{"sys/online", "0-3\n"}, {"cg/cpuset/ct/cpuset.effective_cpus", ""}});
  CHECK(RenderAll(renderer, 500).at("sys-cpu/online") == "0-1\n");
  CHECK(renderer.view().visible == std::vector<int>{1, 2});
  CHECK(logged().find("the cpuset of " + t.path() + "/cg/cpuset/ct cannot be read; keeping the last one") !=
        std::string::npos);
  REQUIRE(renderer.Degraded().size() == 1);
}

TEST_CASE("ContainerRenderer v2 over files the 6.1 kernel wrote (the VM lane's guest: tests/testdata/v2-guest)") {
  // Made by tests/vm/capture-v2-fixture.sh: a runc container limited to
  // 256 MiB, swap 128 MiB and a quota of one CPU on a 2-CPU guest, after
  // 64 MiB to /dev/shm, 8 MiB written and read back with O_DIRECT on vda,
  // and a busy loop (pid 249, "R") beside its init (pid 160, "S").
  const std::string base = std::filesystem::absolute("tests/testdata/v2-guest").string();
  const std::string cg = base + "/sys/fs/cgroup/fixture/ct";
  REQUIRE(std::filesystem::exists(cg + "/memory.stat"));
  ContainerRecord r = Record();
  r.pid = 160;
  r.pid_start = 828;
  for (const char* c : {"cpuset", "cpu", "cpuacct", "memory", "blkio", "pids"}) {
    r.cgroups[c] = {2, cg, base + "/sys/fs/cgroup"};
  }
  ContainerRenderer renderer(r, {base + "/proc", base + "/sys/devices/system/cpu"});
  auto f = RenderAll(renderer, 0);
  INFO("meminfo:\n" << f.at("meminfo") << "stat:\n" << f.at("stat") << "loadavg: " << f.at("loadavg"));

  // memory.max 268435456, memory.current 68874240, shmem 67108864,
  // memory.swap.max 134217728, memory.swap.current 0 (in kB below).
  CHECK(Field(f.at("meminfo"), "MemTotal") == "262144");
  CHECK(Field(f.at("meminfo"), "MemFree") == std::to_string(262144 - 68874240 / 1024));
  CHECK(Field(f.at("meminfo"), "Shmem") == "65536");
  CHECK(Field(f.at("meminfo"), "SwapTotal") == "131072");
  CHECK(Field(f.at("meminfo"), "SwapFree") == "131072");
  CHECK(f.at("swaps").find("\t131072\t") != std::string::npos);
  // cpu.max "100000 100000" within cpuset 0-1: one CPU, everywhere.
  CHECK(AgreedCpus(f) == 1);
  // cpu.stat user_usec 4284477, system_usec 1038587: in USER_HZ ticks.
  CHECK(f.at("stat").rfind("cpu  428 0 103 ", 0) == 0);
  CHECK(f.at("stat").find("\ncpu0 428 0 103 ") != std::string::npos);
  // io.stat "254:0 rbytes=9424896 wbytes=8388608 rios=24 wios=8": vda's
  // reads, sectors read, writes, sectors written; the guest's other disks
  // (vdb, loop*) listed with nothing of the container's.
  CHECK(f.at("diskstats").find(" 254       0 vda 24 0 18408 0 8 0 16384 0 ") != std::string::npos);
  CHECK(f.at("diskstats").find(" 254      16 vdb 0 0 0 0 0 0 0 0 ") != std::string::npos);
  // iostat's files: the same counters, in sysfs's layout, for every device.
  CHECK(f.at("sys-block/vda") ==
        "      24        0    18408        0        8        0    16384        0        0        0        0"
        "        0        0        0        0        0        0\n");
  CHECK(f.at("sys-block/vdb").find_first_not_of(" 0\n") == std::string::npos);
  size_t devices = 0;
  for (const auto& [path, content] : f) devices += path.rfind("sys-block/", 0) == 0;
  CHECK(devices == SplitLines(f.at("diskstats")).size());
  // Two threads in cgroup.threads, one of them running; the last pid is
  // in the container's pid namespace (NSpid 249 -> 27).
  CHECK(std::regex_search(f.at("loadavg"), std::regex(" 1/2 [0-9]+\n$")));
  // PSI: the cgroup's files as the kernel wrote them.
  CHECK(f.at("pressure-cpu") == ReadFile(cg + "/cpu.pressure").value());
  CHECK(f.at("pressure-io") == ReadFile(cg + "/io.pressure").value());
  // proc/vmstat is the guest's from a later run of the same script (the
  // script captured no vmstat before): the template only. io.stat's bytes
  // in KiB, memory.stat's pgfault 2498, MemFree in pages.
  CHECK(f.at("vmstat").find("\npgpgin 9204\npgpgout 8192\npswpin 0\npswpout 0\n") != std::string::npos);
  CHECK(f.at("vmstat").find("\npgfault 2498\npgmajfault 10\n") != std::string::npos);
  CHECK(f.at("vmstat").rfind("nr_free_pages " + std::to_string((262144 - 68874240 / 1024) / 4) + "\n", 0) == 0);
}

TEST_CASE("ContainerRenderer: the block devices served are chosen once, and kept by a restarted renderer") {
  TempDir t;
  auto files = HostFiles();
  files.merge(std::map<std::string, std::string>{
      {"v1/blkio/ct/blkio.throttle.io_serviced_recursive", "254:0 Read 3\n254:0 Write 2\nTotal 5\n"},
      {"v1/blkio/ct/blkio.throttle.io_service_bytes_recursive", "254:0 Read 4096\n254:0 Write 8192\nTotal 12288\n"},
  });
  t.Write(files);
  ContainerRecord r = Record();
  r.files = {"sys-block"};
  r.cgroups["blkio"] = {1, t.path() + "/v1/blkio/ct", t.path() + "/v1/blkio"};
  ContainerRenderer renderer(r, {t.path() + "/proc", t.path() + "/sys"});
  auto first = RenderAll(renderer, 0);
  REQUIRE(first.size() == 1);
  CHECK(first.at("sys-block/vda").rfind("       3        0        8        0        2        0       16 ", 0) == 0);

  // A device the host adds later has no mount: it is not rendered.
  const std::string host = files.at("proc/diskstats");
  t.Write({{"proc/diskstats", host + " 254      16 vdb 1 0 8 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n"}});
  auto second = RenderAll(renderer, 1000);
  CHECK(second.size() == 1);
  CHECK(second.count("sys-block/vda") == 1);

  // A renderer started again serves what the first one chose; a device the
  // host no longer lists keeps its last content (no file, no error).
  ContainerRenderer again(r, {t.path() + "/proc", t.path() + "/sys"});
  again.KeepBlockDevices({"vdb", "sdq"});
  auto third = RenderAll(again, 2000);
  CHECK(third.size() == 1);
  CHECK(third.count("sys-block/vdb") == 1);
  for (RenderedFile& f : again.Render(3000)) CHECK(f.content.ok());

  // Counters unreadable at the first render: no device is served, then or
  // later (nothing was mounted for them).
  ContainerRecord late_record = r;
  late_record.cgroups["blkio"].dir = t.path() + "/v1/blkio/late";
  ContainerRenderer late(late_record, {t.path() + "/proc", t.path() + "/sys"});
  CHECK(late.Render(0).empty());
  t.Write({{"v1/blkio/late/blkio.throttle.io_serviced_recursive", "254:0 Read 3\nTotal 3\n"}});
  CHECK(late.Render(1000).empty());
}
