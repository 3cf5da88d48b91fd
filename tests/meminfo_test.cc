#include <doctest/doctest.h>

#include <map>
#include <string>

#include "common/io.h"
#include "renderer/meminfo.h"

using namespace prochook;

namespace {

// /proc/meminfo of this project's machine (kernel 6.18) with 4 GiB of swap
// (SwapTotal, SwapFree and CommitLimit as the kernel shows them then).
constexpr char kHostMeminfo[] =
    "MemTotal:       24683620 kB\n"
    "MemFree:        23866800 kB\n"
    "MemAvailable:   24100688 kB\n"
    "Buffers:            9640 kB\n"
    "Cached:           392344 kB\n"
    "SwapCached:            0 kB\n"
    "Active:           187380 kB\n"
    "Inactive:         423960 kB\n"
    "Active(anon):       1508 kB\n"
    "Inactive(anon):   216752 kB\n"
    "Active(file):     185872 kB\n"
    "Inactive(file):   207208 kB\n"
    "Unevictable:       10040 kB\n"
    "Mlocked:            8980 kB\n"
    "SwapTotal:       4194300 kB\n"
    "SwapFree:        4194300 kB\n"
    "Zswap:                 0 kB\n"
    "Zswapped:              0 kB\n"
    "Dirty:              2268 kB\n"
    "Writeback:             0 kB\n"
    "AnonPages:        219532 kB\n"
    "Mapped:            31076 kB\n"
    "Shmem:              8884 kB\n"
    "KReclaimable:      94824 kB\n"
    "Slab:             118096 kB\n"
    "SReclaimable:      94824 kB\n"
    "SUnreclaim:        23272 kB\n"
    "KernelStack:        1800 kB\n"
    "PageTables:         1612 kB\n"
    "SecPageTables:         0 kB\n"
    "NFS_Unstable:          0 kB\n"
    "Bounce:                0 kB\n"
    "WritebackTmp:          0 kB\n"
    "CommitLimit:    16536108 kB\n"
    "Committed_AS:     308716 kB\n"
    "VmallocTotal:   34359738367 kB\n"
    "VmallocUsed:       14572 kB\n"
    "VmallocChunk:          0 kB\n"
    "Percpu:              688 kB\n"
    "AnonHugePages:         0 kB\n"
    "ShmemHugePages:        0 kB\n"
    "ShmemPmdMapped:        0 kB\n"
    "FileHugePages:      4096 kB\n"
    "FilePmdMapped:         0 kB\n"
    "Balloon:               0 kB\n"
    "HugePages_Total:       0\n"
    "HugePages_Free:        0\n"
    "HugePages_Rsvd:        0\n"
    "HugePages_Surp:        0\n"
    "Hugepagesize:       2048 kB\n"
    "Hugetlb:               0 kB\n"
    "DirectMap4k:       30720 kB\n"
    "DirectMap2M:    25135104 kB\n";

constexpr uint64_t kMiB = 1 << 20;

std::map<std::string, uint64_t> Fields(const std::string& text) {
  std::map<std::string, uint64_t> out;
  for (const auto& l : ParseMeminfo(text)) out[l.key] = l.value;
  return out;
}

MemorySnapshot Limited(uint64_t limit, uint64_t usage) {
  MemorySnapshot m;
  m.limit = limit;
  m.usage = usage;
  m.stat = {{"file", 40 * kMiB},         {"anon", 20 * kMiB},          {"shmem", 8 * kMiB},
            {"active_file", 10 * kMiB},  {"inactive_file", 22 * kMiB}, {"active_anon", 5 * kMiB},
            {"inactive_anon", 23 * kMiB}, {"file_mapped", 3 * kMiB},   {"file_dirty", kMiB}};
  return m;
}

// Fields that describe part of the container's memory must not exceed it.
void CheckWithinTotal(const std::map<std::string, uint64_t>& f) {
  const uint64_t total = f.at("MemTotal");
  for (const char* k : {"MemFree", "MemAvailable", "Buffers", "Cached", "Active", "Inactive",
                        "Active(anon)", "Inactive(anon)", "Active(file)", "Inactive(file)",
                        "AnonPages", "Mapped", "Shmem", "Slab", "Dirty"}) {
    CAPTURE(k);
    CHECK(f.at(k) <= total);
  }
  CHECK(f.at("MemFree") <= f.at("MemAvailable"));
  CHECK(f.at("SwapFree") <= f.at("SwapTotal"));
}

// text with the kB line `key` set to value.
std::string WithLine(const std::string& text, const std::string& key, uint64_t value) {
  auto lines = ParseMeminfo(text);
  for (auto& l : lines) {
    if (l.key == key) l.value = value;
  }
  return FormatMeminfo(lines);
}

}  // namespace

TEST_CASE("FormatMeminfo reproduces the kernel's layout byte for byte") {
  CHECK(FormatMeminfo(ParseMeminfo(kHostMeminfo)) == kHostMeminfo);
  // And the live file of whatever kernel runs the tests.
  auto live = ReadFile("/proc/meminfo");
  REQUIRE(live.ok());
  CHECK(FormatMeminfo(ParseMeminfo(*live)) == *live);
  // HugePages counts keep the kernel's "%5lu" after three spaces.
  CHECK(FormatMeminfo({{"HugePages_Total", 123456, false}}) == "HugePages_Total:   123456\n");
}

TEST_CASE("RenderMeminfo shows a 256 MiB container") {
  auto f = Fields(RenderMeminfo(ParseMeminfo(kHostMeminfo), Limited(256 * kMiB, 100 * kMiB)));
  CHECK(f.at("MemTotal") == 262144);
  CHECK(f.at("MemFree") == 262144 - 102400);
  CHECK(f.at("MemAvailable") == 262144 - 102400 + 32 * 1024);
  CHECK(f.at("Cached") == 40 * 1024);
  CHECK(f.at("Shmem") == 8 * 1024);
  CHECK(f.at("Active") == 15 * 1024);
  CHECK(f.at("Inactive") == 45 * 1024);
  CHECK(f.at("AnonPages") == 20 * 1024);
  CHECK(f.at("Buffers") == 0);
  CHECK(f.at("Mlocked") == 0);
  // Host-wide properties pass through.
  CHECK(f.at("VmallocTotal") == 34359738367ULL);
  CHECK(f.at("Hugepagesize") == 2048);
  // No swap accounting in the snapshot: the host's swap.
  CHECK(f.at("SwapTotal") == 4194300);
  CheckWithinTotal(f);
  // Same fields, same order as the host.
  CHECK(ParseMeminfo(RenderMeminfo(ParseMeminfo(kHostMeminfo), Limited(256 * kMiB, 0))).size() ==
        ParseMeminfo(kHostMeminfo).size());
}

TEST_CASE("RenderMeminfo never underflows when usage exceeds the limit") {
  // Usage can pass the limit briefly (charges batch per CPU); stats can too.
  MemorySnapshot m = Limited(64 * kMiB, 80 * kMiB);
  m.stat["file"] = 500 * kMiB;
  m.stat["inactive_file"] = 300 * kMiB;
  auto f = Fields(RenderMeminfo(ParseMeminfo(kHostMeminfo), m));
  CHECK(f.at("MemTotal") == 65536);
  CHECK(f.at("MemFree") == 0);
  CHECK(f.at("Cached") == 65536);
  CHECK(f.at("MemAvailable") == 65536);
  CheckWithinTotal(f);
}

TEST_CASE("RenderMeminfo gives host values with no limit, or a limit above the host") {
  const std::string host = kHostMeminfo;
  CHECK(RenderMeminfo(ParseMeminfo(host), std::nullopt) == host);
  MemorySnapshot unlimited = Limited(0, 100 * kMiB);
  unlimited.limit.reset();
  CHECK(RenderMeminfo(ParseMeminfo(host), unlimited) == host);
  // cgroup v1 writes "no limit" as 9223372036854771712.
  CHECK(RenderMeminfo(ParseMeminfo(host), Limited(9223372036854771712ULL, kMiB)) == host);
  CHECK(RenderMeminfo(ParseMeminfo(host), Limited(48ULL << 30, kMiB)) == host);
}

TEST_CASE("RenderMeminfo shows the container's swap when the cgroup accounts for it") {
  MemorySnapshot m = Limited(256 * kMiB, 10 * kMiB);
  m.swap_usage = 30 * kMiB;
  m.swap_limit = 100 * kMiB;
  auto f = Fields(RenderMeminfo(ParseMeminfo(kHostMeminfo), m));
  CHECK(f.at("SwapTotal") == 100 * 1024);
  CHECK(f.at("SwapFree") == 70 * 1024);

  // Unlimited swap: the host's swap is the bound.
  m.swap_limit.reset();
  f = Fields(RenderMeminfo(ParseMeminfo(kHostMeminfo), m));
  CHECK(f.at("SwapTotal") == 4194300);
  CHECK(f.at("SwapFree") == 4194300 - 30 * 1024);

  // Usage above the limit: free is 0, never 18446744073709551488.
  m.swap_limit = 10 * kMiB;
  f = Fields(RenderMeminfo(ParseMeminfo(kHostMeminfo), m));
  CHECK(f.at("SwapTotal") == 10 * 1024);
  CHECK(f.at("SwapFree") == 0);
  CheckWithinTotal(f);
}

TEST_CASE("ParseMeminfo drops lines that are not Key: value [kB]") {
  auto l = ParseMeminfo("MemTotal: 10 kB\nnonsense\nX: abc kB\nY: 5 MB\n: 3\nHugePages_Free: 2\n");
  REQUIRE(l.size() == 2);
  CHECK(l[0].key == "MemTotal");
  CHECK(l[0].kb);
  CHECK(l[1].key == "HugePages_Free");
  CHECK_FALSE(l[1].kb);
}

TEST_CASE("RenderMeminfo fits libuv's 4 KiB read buffer with every kernel line") {
  const std::string out = RenderMeminfo(ParseMeminfo(kHostMeminfo), Limited(256 * kMiB, 100 * kMiB));
  CHECK(out.size() < 4096);  // libuv reads /proc/meminfo into 4 KiB, once
  CHECK(out.size() == std::string(kHostMeminfo).size());  // same lines, same widths
}

TEST_CASE("RenderMeminfo: CommitLimit and Committed_AS are the container's, so sar's %commit is") {
  // overcommit_ratio 50: the host allows 12341808 kB of RAM + 4194300 of swap.
  MemorySnapshot m = Limited(256 * kMiB, 100 * kMiB);
  auto f = Fields(RenderMeminfo(ParseMeminfo(kHostMeminfo), m));
  // No swap accounting: the host's swap; half the container's RAM.
  CHECK(f.at("CommitLimit") == 131071 + 4194300);
  // anon 20 MiB + shmem 8 MiB, not the host's 308716 kB.
  CHECK(f.at("Committed_AS") == 28 * 1024);
  // sar -r: %commit = Committed_AS / (MemTotal + SwapTotal).
  CHECK(100.0 * f.at("Committed_AS") / (f.at("MemTotal") + f.at("SwapTotal")) < 100.0);

  // The container's swap: in the limit, and what it swapped out counts.
  m.swap_limit = 100 * kMiB;
  m.swap_usage = 30 * kMiB;
  f = Fields(RenderMeminfo(ParseMeminfo(kHostMeminfo), m));
  CHECK(f.at("CommitLimit") == 131071 + 100 * 1024);
  CHECK(f.at("Committed_AS") == 58 * 1024);

  // Never above the host's own count.
  m.stat["anon"] = 250 * kMiB;
  m.swap_usage = 100 * kMiB;
  f = Fields(RenderMeminfo(ParseMeminfo(kHostMeminfo), m));
  CHECK(f.at("Committed_AS") == 308716);
}

TEST_CASE("RenderMeminfo: CommitLimit follows the host's rule (ratio or kbytes, hugetlb pool left out)") {
  std::string host = kHostMeminfo;
  // overcommit_kbytes=6170905 (a quarter of RAM), a 2 GiB hugetlb pool:
  // CommitLimit 6170905 + 4194300, MemTotal minus the pool is what it is a share of.
  host = WithLine(host, "CommitLimit", 10365205);
  host = WithLine(host, "Hugetlb", 2097152);
  auto f = Fields(RenderMeminfo(ParseMeminfo(host), Limited(256 * kMiB, 100 * kMiB)));
  // 262144 * 6170905 / (24683620 - 2097152)
  CHECK(f.at("CommitLimit") == 71621 + 4194300);
}

TEST_CASE("RenderMeminfo: Balloon is 0; the commit figures stay within MemTotal + SwapTotal") {
  std::string host = kHostMeminfo;
  host = WithLine(host, "Balloon", 1048576);
  auto f = Fields(RenderMeminfo(ParseMeminfo(host), Limited(256 * kMiB, 100 * kMiB)));
  CHECK(f.at("Balloon") == 0);
  CHECK(f.at("Committed_AS") <= f.at("MemTotal") + f.at("SwapTotal"));
  CHECK(f.at("CommitLimit") <= f.at("MemTotal") + f.at("SwapTotal"));
}
