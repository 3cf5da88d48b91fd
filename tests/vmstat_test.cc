// /proc/vmstat: the host's file as the template, the container's block I/O
// and memory.stat events, gauges as meminfo shows them, counters that never
// go backwards. Fixtures: tests/testdata/v1-host (this development VM,
// Linux 6.18, a v1 memory+blkio cgroup limited to 256 MiB that wrote 8 MiB
// and read them back with O_DIRECT, filled 32 MiB of /dev/shm and 16 MiB of
// anonymous memory) and tests/testdata/v2-guest (the VM lane's 6.1 guest).
#include <doctest/doctest.h>

#include <filesystem>
#include <map>
#include <string>

#include "common/io.h"
#include "common/text.h"
#include "renderer/diskstats.h"
#include "renderer/meminfo.h"
#include "renderer/vmstat.h"

using namespace prochook;

namespace {

std::map<std::string, uint64_t> Values(const std::string& text) {
  std::map<std::string, uint64_t> out;
  for (const VmstatLine& l : ParseVmstat(text)) out[l.key] = l.value;
  return out;
}

std::vector<std::string> Keys(const std::string& text) {
  std::vector<std::string> out;
  for (const VmstatLine& l : ParseVmstat(text)) out.push_back(l.key);
  return out;
}

std::string Fixture(const std::string& path) {
  auto text = ReadFile(std::filesystem::absolute("tests/testdata/" + path).string());
  REQUIRE_MESSAGE(text.ok(), path);
  return *text;
}

// Everything a refresh reads for vmstat, from a fixture tree.
struct FixtureInput {
  std::string host;
  std::optional<MemorySnapshot> memory;
  VmstatInput in;

  FixtureInput(const std::string& base, const CgroupDir& memory_cg, const CgroupDir& io_cg)
      : host(Fixture(base + "/proc/vmstat")) {
    auto snap = ReadMemoryCgroup(memory_cg);
    REQUIRE(snap.ok());
    memory = *snap;
    in.memory = &*memory;
    in.mem_total_kb = ContainerMemTotalKb(ParseMeminfo(Fixture(base + "/proc/meminfo")), memory);
    auto io = ReadIoStats(io_cg);
    REQUIRE(io.ok());
    in.io_read_bytes = in.io_write_bytes = 0;
    for (const IoDeviceStat& d : *io) {
      *in.io_read_bytes += d.read_bytes;
      *in.io_write_bytes += d.write_bytes;
    }
  }
};

CgroupDir V1(const std::string& controller) {
  const std::string root = std::filesystem::absolute("tests/testdata/v1-host/sys/fs/cgroup/" + controller).string();
  return {1, root + "/fixture/ct", root};
}

CgroupDir V2() {
  const std::string root = std::filesystem::absolute("tests/testdata/v2-guest/sys/fs/cgroup").string();
  return {2, root + "/fixture/ct", root};
}

}  // namespace

TEST_CASE("ParseVmstat keeps every line of the kernel's file in order") {
  const std::string host = Fixture("v1-host/proc/vmstat");
  auto lines = ParseVmstat(host);
  CHECK(lines.size() == SplitLines(host).size());
  REQUIRE(lines.size() > 100);
  CHECK(lines.front().key == "nr_free_pages");
  CHECK(lines.back().key == "nr_unstable");
  CHECK(ParseVmstat("pgfault 12\nbroken\npgmajfault x\nnr_dirty 3 4\n\npswpin 7\n").size() == 2);
}

TEST_CASE("IsVmstatCounter: events are counters, nr_* and workingset_nodes are gauges but the nr_ event counts") {
  for (const char* k : {"pgpgin", "pgfault", "pswpout", "numa_hit", "workingset_refault_file", "pgdemote_kswapd",
                        "thp_fault_alloc", "nr_dirtied", "nr_written", "nr_vmscan_write", "oom_kill"}) {
    CAPTURE(k);
    CHECK(IsVmstatCounter(k));
  }
  for (const char* k : {"nr_free_pages", "nr_zone_active_anon", "workingset_nodes", "nr_dirty_threshold",
                        "nr_kernel_stack", "nr_unstable"}) {
    CAPTURE(k);
    CHECK_FALSE(IsVmstatCounter(k));
  }
}

TEST_CASE("RenderVmstat v1 (6.18): blkio bytes for pgpgin/pgpgout, total_pg*fault, gauges as meminfo shows them") {
  FixtureInput f("v1-host", V1("memory"), V1("blkio"));
  VmstatState state;
  const std::string out = RenderVmstat(f.host, f.in, state);
  INFO(out);
  const auto v = Values(out);
  const auto host = Values(f.host);
  CHECK(Keys(out) == Keys(f.host));
  // blkio.throttle.io_service_bytes_recursive: Read 8839168, Write 8388608
  // (not memory.stat's total_pgpgin 17809, pages charged).
  CHECK(v.at("pgpgin") == 8839168 / 1024);
  CHECK(v.at("pgpgout") == 8388608 / 1024);
  CHECK(v.at("pgfault") == 14220);
  CHECK(v.at("pgmajfault") == 8);
  CHECK(v.at("workingset_refault_file") == 110);
  // v1 has no swap-in/out counters; the host's activity is nobody's here.
  for (const char* k : {"pswpin", "pswpout", "pgfree", "pgalloc_normal", "numa_hit", "pgactivate", "nr_dirtied",
                        "oom_kill", "pgscan_kswapd", "drop_pagecache"}) {
    CAPTURE(k);
    CHECK(v.at(k) == 0);
  }
  CHECK(host.at("pgfault") > 14220);  // the template's own figures are not shown
  // memory.limit_in_bytes 256 MiB, usage 499712: MemFree 261656 kB in pages.
  CHECK(v.at("nr_free_pages") == (262144 - 499712 / 1024) / 4);
  CHECK(v.at("nr_active_file") == 425984 / 4096);
  CHECK(v.at("nr_zone_active_file") == 425984 / 4096);
  CHECK(v.at("nr_inactive_file") == 24576 / 4096);
  CHECK(v.at("nr_file_pages") == 450560 / 4096);
  CHECK(v.at("nr_anon_pages") == 0);
  CHECK(v.at("nr_mlock") == 0);               // as meminfo's Mlocked
  CHECK(v.at("nr_slab_reclaimable") == 0);    // v1 memory.stat has no slab
  CHECK(v.at("nr_dirty_threshold") == host.at("nr_dirty_threshold"));
  CHECK(v.at("nr_memmap_boot_pages") == host.at("nr_memmap_boot_pages"));
}

TEST_CASE("RenderVmstat v2 (6.1 guest): io.stat, memory.stat events by their own names, gauges from its amounts") {
  FixtureInput f("v2-guest", V2(), V2());
  VmstatState state;
  const auto v = Values(RenderVmstat(f.host, f.in, state));
  // io.stat "254:0 rbytes=9424896 wbytes=8388608".
  CHECK(v.at("pgpgin") == 9424896 / 1024);
  CHECK(v.at("pgpgout") == 8192);
  CHECK(v.at("pgfault") == 2498);
  CHECK(v.at("pgmajfault") == 10);
  CHECK(v.at("pgactivate") == 73);
  CHECK(v.at("thp_fault_alloc") == 3);
  CHECK(v.at("pswpin") == 0);  // 6.1's memory.stat has no pswpin
  // memory.max 268435456, memory.current 68874240; shmem 64 MiB.
  CHECK(v.at("nr_free_pages") == (262144 - 68874240 / 1024) / 4);
  CHECK(v.at("nr_shmem") == 67108864 / 4096);
  CHECK(v.at("nr_inactive_anon") == 67305472 / 4096);
  CHECK(v.at("nr_kernel_stack") == 32768 / 1024);  // kB, as the kernel prints it
  CHECK(v.at("nr_slab_unreclaimable") == 155680 / 4096);
  CHECK(v.at("nr_page_table_pages") == 69632 / 4096);
}

TEST_CASE("RenderVmstat: newer v2 kernels' pswpin/pswpout, THP gauges in huge pages") {
  MemorySnapshot m;
  m.limit = 1ull << 30;
  m.usage = 512ull << 20;
  m.stat = {{"pswpin", 300}, {"pswpout", 900}, {"anon_thp", 6ull << 20}, {"pgpgin", 123456}};
  VmstatInput in;
  in.memory = &m;
  in.mem_total_kb = 1 << 20;
  VmstatState state;
  const auto v = Values(RenderVmstat("pgpgin 99\npswpin 5\npswpout 6\nnr_anon_transparent_hugepages 7\n", in, state));
  CHECK(v.at("pswpin") == 300);
  CHECK(v.at("pswpout") == 900);
  CHECK(v.at("nr_anon_transparent_hugepages") == 3);
  CHECK(v.at("pgpgin") == 0);  // memory.stat's pgpgin is not block I/O; no io given
}

TEST_CASE("RenderVmstat counters never go backwards: a removed child, an unreadable source, a restarted renderer") {
  MemorySnapshot m;
  m.limit = 256ull << 20;
  VmstatInput in;
  in.memory = &m;
  in.mem_total_kb = 262144;
  const std::string host = "pgpgout 777777\npgfault 888888\n";
  auto render = [&](VmstatState& state, uint64_t faults, std::optional<uint64_t> written) {
    m.stat["pgfault"] = faults;
    in.io_read_bytes = written ? std::optional<uint64_t>(0) : std::nullopt;
    in.io_write_bytes = written;
    return Values(RenderVmstat(host, in, state));
  };
  VmstatState state;
  auto a = render(state, 1000, 100 << 10);
  CHECK(a.at("pgfault") == 1000);
  CHECK(a.at("pgpgout") == 100);
  // v1's total_pgfault loses a child cgroup that made 600 faults: the
  // figure stays, and the next 50 faults show as 50.
  auto b = render(state, 400, 100 << 10);
  CHECK(b.at("pgfault") == 1000);
  auto c = render(state, 450, 130 << 10);
  CHECK(c.at("pgfault") == 1050);
  CHECK(c.at("pgpgout") == 130);
  // blkio unreadable this time: pgpgout keeps its value (not 0, which
  // would turn into a jump when it can be read again).
  auto d = render(state, 450, std::nullopt);
  CHECK(d.at("pgpgout") == 130);
  auto e = render(state, 460, 140 << 10);
  CHECK(e.at("pgpgout") == 140);
  CHECK(e.at("pgfault") == 1060);

  // A new renderer resumes from what the last one wrote, whatever the
  // cgroup's figures are now.
  VmstatState resumed;
  resumed.Seed("pgpgout 140\npgfault 1060\nnr_free_pages 5\n");
  auto f = render(resumed, 10, 1 << 10);
  CHECK(f.at("pgfault") == 1060);
  CHECK(f.at("pgpgout") == 140);
  auto g = render(resumed, 30, 3 << 10);
  CHECK(g.at("pgfault") == 1080);
  CHECK(g.at("pgpgout") == 142);
}

TEST_CASE("RenderVmstat without cgroup files: counters 0, gauges the host's like meminfo") {
  const std::string host = Fixture("v1-host/proc/vmstat");
  VmstatState state;
  const auto v = Values(RenderVmstat(host, VmstatInput{}, state));
  const auto h = Values(host);
  CHECK(v.size() == h.size());
  for (const auto& [key, value] : h) {
    CAPTURE(key);
    CHECK(v.at(key) == (IsVmstatCounter(key) ? 0 : value));
  }
  // A memory cgroup without a limit below the host's memory: meminfo shows
  // the host's, so do the gauges; its events are still the container's.
  MemorySnapshot m;
  m.usage = 1 << 20;
  m.stat = {{"pgfault", 42}, {"anon", 1 << 20}};
  VmstatInput in;
  in.memory = &m;
  const auto u = Values(RenderVmstat(host, in, state));
  CHECK(u.at("pgfault") == 42);
  CHECK(u.at("nr_anon_pages") == h.at("nr_anon_pages"));
  CHECK(u.at("nr_free_pages") == h.at("nr_free_pages"));
}
