#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "common/text.h"
#include "renderer/block_stat.h"
#include "renderer/diskstats.h"

using namespace prochook;

namespace {

// /proc/diskstats of the development VM (Linux 6.18), one moment.
constexpr char kHost[] =
    "   7       0 loop0 1081 0 20991 1078 3952 1495 108082 11506 0 8724 21332 0 0 0 0 3202 8746\n"
    "   7       3 loop3 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n"
    " 254       0 vda 1189210 123368 66829946 1607688 863447 404865 158261664 1300568 0 367968 "
    "3076769 492732 81 129688640 120715 161502 47797\n"
    " 254       1 vda1 20 0 400 3 0 0 0 0 0 4 3 0 0 0 0 0 0\n"
    " 253       0 zram0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n";

// loop0's /sys/block/loop0/stat at the same moment, verbatim.
constexpr char kLoop0Stat[] =
    "    1081        0    20991     1078     3952     1495   108082    11506        0     8724    21332"
    "        0        0        0        0     3202     8746\n";

// The numbers of a line; one that does not parse is a failure, not UB.
std::vector<uint64_t> Numbers(std::string_view text) {
  std::vector<uint64_t> out;
  for (std::string_view f : SplitFields(Trim(text))) {
    auto v = ParseU64(f);
    REQUIRE_MESSAGE(v.has_value(), "not a number: \"" << std::string(f) << "\"");
    out.push_back(*v);
  }
  return out;
}

}  // namespace

TEST_CASE("RenderBlockStat reproduces part_stat_show's layout byte for byte") {
  DiskCounters d;
  d.name = "loop0";
  d.fields = {1081, 0, 20991, 1078, 3952, 1495, 108082, 11506, 0, 8724, 21332, 0, 0, 0, 0, 3202, 8746};
  CHECK(RenderBlockStat(d) == kLoop0Stat);
  // Wider values push the columns, as %8lu does.
  d.fields[2] = 12345678901ull;
  CHECK(RenderBlockStat(d).rfind("    1081        0 12345678901     1078 ", 0) == 0);
}

TEST_CASE("RenderBlockStat keeps the host's field count: 11 before 4.18, 15 before 5.5") {
  DiskCounters d;
  d.fields.fill(7);
  for (auto [host, shown] : std::vector<std::pair<size_t, size_t>>{{11, 11}, {14, 11}, {15, 15}, {17, 17}, {20, 17}}) {
    CAPTURE(host);
    d.host_fields = host;
    CHECK(Numbers(RenderBlockStat(d)).size() == shown);
  }
  // A 4.14 kernel's diskstats line has 11 fields after the name.
  auto disks = ComputeDiskCounters("   8       0 sda 1 2 3 4 5 6 7 8 0 9 10\n", {});
  REQUIRE(disks.size() == 1);
  CHECK(disks[0].host_fields == 11);
  CHECK(Numbers(RenderBlockStat(disks[0])).size() == 11);
}

TEST_CASE("The stat files and /proc/diskstats show the same counters of the container") {
  IoDeviceStat vda;
  vda.major = 254;
  vda.minor = 0;
  vda.read_ios = 24;
  vda.read_bytes = 9424896;
  vda.write_ios = 8;
  vda.write_bytes = 8388608;
  vda.read_ms = 5;
  const auto disks = ComputeDiskCounters(kHost, {vda});
  REQUIRE(disks.size() == 5);
  const std::string diskstats = RenderDiskstats(disks);
  std::vector<std::string_view> lines = SplitLines(diskstats);
  REQUIRE(lines.size() == 5);
  for (size_t i = 0; i < disks.size(); ++i) {
    CAPTURE(disks[i].name);
    std::vector<uint64_t> from_diskstats = Numbers(lines[i].substr(lines[i].find(disks[i].name) + disks[i].name.size()));
    CHECK(Numbers(RenderBlockStat(disks[i])) == from_diskstats);
  }
  CHECK(RenderBlockStat(disks[2]) ==
        "      24        0    18408        5        8        0    16384        0        0        5        5"
        "        0        0        0        0        0        0\n");
  // The host's partition and idle devices: nothing of the container's.
  CHECK(Numbers(RenderBlockStat(disks[3])) == std::vector<uint64_t>(17, 0));
}

TEST_CASE("SelectBlockDevices: devices the host used first, host order, capped; no unsafe names") {
  CHECK(SelectBlockDevices(kHost) == std::vector<std::string>{"loop0", "vda", "vda1", "loop3", "zram0"});
  CHECK(SelectBlockDevices(kHost, 3) == std::vector<std::string>{"loop0", "vda", "vda1"});
  CHECK(SelectBlockDevices(kHost, 0).empty());
  CHECK(SelectBlockDevices("   8 0 .. 1 0 0 0\n   8 1 . 1\n   8 2 a/b 1\n   x 3 sdz 1\n   8 4 sdb 0 0\n") ==
        std::vector<std::string>{"sdb"});
  CHECK(SelectBlockDevices("").empty());
}
