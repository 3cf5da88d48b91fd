#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "common/text.h"
#include "renderer/diskstats.h"
#include "tests/testing.h"

using namespace prochook;
using prochook::testing::TempDir;

namespace {

// /proc/diskstats of the development VM (Linux 6.18), verbatim.
constexpr char kHost[] =
    "   7       0 loop0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n"
    "   7       1 loop1 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n"
    "   7       2 loop2 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n"
    "   7       3 loop3 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n"
    "   7       4 loop4 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n"
    "   7       5 loop5 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n"
    "   7       6 loop6 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n"
    "   7       7 loop7 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n"
    " 254       0 vda 173983 34175 7671538 33199 36228 32365 4848232 15386 0 24320 51385 11362 "
    "108 2645000 2155 1624 644\n"
    " 253       0 zram0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n";

// kHost with every device idle but the given lines ("MAJ MIN NAME ..."),
// which replace the host line of the same NAME.
std::string IdleHostWith(const std::vector<std::string>& used) {
  std::string out;
  for (std::string_view line : SplitLines(kHost)) {
    auto f = SplitFields(line);
    std::string text = std::string(line.substr(0, line.find(f[2]) + f[2].size()));
    for (int i = 0; i < 17; ++i) text += " 0";
    for (const std::string& u : used) {
      if (SplitFields(u)[2] == f[2]) text = u;
    }
    out += text + "\n";
  }
  return out;
}

// A v1 rwstat file as __blkg_prfill_rwstat prints it, one device used.
std::string RwStat(uint64_t read, uint64_t write, uint64_t discard) {
  auto dev = [](const std::string& d, uint64_t r, uint64_t w, uint64_t x) {
    return d + " Read " + std::to_string(r) + "\n" + d + " Write " + std::to_string(w) + "\n" +
           d + " Sync " + std::to_string(r + w) + "\n" + d + " Async 0\n" + d + " Discard " +
           std::to_string(x) + "\n" + d + " Total " + std::to_string(r + w + x) + "\n";
  };
  return dev("7:0", 0, 0, 0) + dev("254:0", read, write, discard) +
         "Total " + std::to_string(read + write + discard) + "\n";
}

}  // namespace

TEST_CASE("ParseRwStat keeps Read, Write and Discard device lines") {
  auto lines = ParseRwStat("8:0 Read 5\n8:0 Write 6\n8:0 Sync 11\n8:0 Async 0\n8:0 Discard 1\n"
                           "8:0 Total 12\n8:x Read 9\n8:16 Read -1\nTotal 12\n");
  REQUIRE(lines.size() == 3);
  CHECK(lines[0].major == 8);
  CHECK(lines[0].minor == 0);
  CHECK(lines[0].op == RwOp::kRead);
  CHECK(lines[0].value == 5);
  CHECK(lines[1].op == RwOp::kWrite);
  CHECK(lines[2].op == RwOp::kDiscard);
  CHECK(ParseRwStat("Total 0\n").empty());  // an idle cgroup, as on this VM
}

TEST_CASE("ParseIoStat reads v2 keys and ignores unknown ones") {
  auto s = ParseIoStat(
      "254:0 rbytes=4915200 wbytes=122880 rios=120 wios=30 dbytes=1024 dios=1 "
      "cost.vrate=100.00 cost.usage=5\n"
      "bad rbytes=1\n"
      "8:16 rbytes=x wbytes=512 wios=1\n");
  REQUIRE(s.size() == 2);
  CHECK(s[0].major == 254);
  CHECK(s[0].read_bytes == 4915200);
  CHECK(s[0].write_bytes == 122880);
  CHECK(s[0].read_ios == 120);
  CHECK(s[0].write_ios == 30);
  CHECK(s[0].discard_bytes == 1024);
  CHECK(s[0].discard_ios == 1);
  CHECK_FALSE(s[0].read_ms.has_value());
  CHECK(s[1].minor == 16);
  CHECK(s[1].read_bytes == 0);
  CHECK(s[1].write_bytes == 512);
}

TEST_CASE("v1 blkio with CFQ/BFQ timing renders every column") {
  TempDir t;
  t.Write({
      {"blkio/ct/blkio.throttle.io_serviced_recursive", RwStat(120, 30, 2)},
      {"blkio/ct/blkio.throttle.io_service_bytes_recursive", RwStat(4915200, 122880, 1048576)},
      {"blkio/ct/blkio.throttle.io_serviced", RwStat(1, 1, 1)},  // the cgroup alone: unused
      {"blkio/ct/blkio.io_service_time_recursive", RwStat(1500000000, 250999999, 0)},
      {"blkio/ct/blkio.io_merged_recursive", RwStat(7, 3, 0)},
  });
  auto stats = ReadIoStats({1, t.path() + "/blkio/ct", t.path() + "/blkio"});
  REQUIRE(stats.ok());
  REQUIRE(stats->size() == 2);  // 7:0 is listed, all zero
  CHECK(RenderDiskstats(kHost, *stats) ==
        IdleHostWith({" 254       0 vda 120 7 9600 1500 30 3 240 250 0 1750 1750 2 0 2048 0 0 0"}));
}

TEST_CASE("v1 blkio falls back to the non-recursive files (before Linux 4.17)") {
  TempDir t;
  t.Write({
      {"blkio/ct/blkio.throttle.io_serviced", RwStat(10, 0, 0)},
      {"blkio/ct/blkio.throttle.io_service_bytes", RwStat(40960, 0, 0)},
  });
  auto stats = ReadIoStats({1, t.path() + "/blkio/ct", t.path() + "/blkio"});
  REQUIRE(stats.ok());
  CHECK(RenderDiskstats(kHost, *stats) ==
        IdleHostWith({" 254       0 vda 10 0 80 0 0 0 0 0 0 0 0 0 0 0 0 0 0"}));
}

TEST_CASE("v1 blkio of an idle cgroup lists every host device at zero; a bare directory fails") {
  TempDir t;
  t.Write({
      {"blkio/ct/blkio.throttle.io_serviced_recursive", "Total 0\n"},
      {"blkio/ct/blkio.throttle.io_service_bytes_recursive", "Total 0\n"},
      {"blkio/empty/tasks", ""},
  });
  auto stats = ReadIoStats({1, t.path() + "/blkio/ct", t.path() + "/blkio"});
  REQUIRE(stats.ok());
  CHECK(stats->empty());
  CHECK(RenderDiskstats(kHost, *stats) == IdleHostWith({}));
  CHECK_FALSE(ReadIoStats({1, t.path() + "/blkio/empty", t.path() + "/blkio"}).ok());
}

TEST_CASE("v2 io.stat: host order, host names, devices unknown to the host dropped") {
  TempDir t;
  t.Write({{"cg/ct/io.stat",
            "8:16 rbytes=512 wbytes=0 rios=1 wios=0 dbytes=0 dios=0\n"  // not on the host
            "254:0 rbytes=4915200 wbytes=122880 rios=120 wios=30 dbytes=0 dios=0\n"
            "253:0 rbytes=0 wbytes=0 rios=0 wios=0 dbytes=0 dios=0\n"
            "7:1 rbytes=1024 wbytes=0 rios=2 wios=0 dbytes=0 dios=0\n"}});
  auto stats = ReadIoStats({2, t.path() + "/cg/ct", t.path() + "/cg"});
  REQUIRE(stats.ok());
  REQUIRE(stats->size() == 4);
  CHECK((*stats)[0].major == 7);  // sorted by device
  CHECK(RenderDiskstats(kHost, *stats) ==
        IdleHostWith({"   7       1 loop1 2 0 2 0 0 0 0 0 0 0 0 0 0 0 0 0 0",
                      " 254       0 vda 120 0 9600 0 30 0 240 0 0 0 0 0 0 0 0 0 0"}));
  CHECK_FALSE(ReadIoStats({2, t.path() + "/cg/gone", t.path() + "/cg"}).ok());
  CHECK_FALSE(ReadIoStats({0, t.path(), t.path()}).ok());
}

TEST_CASE("RenderDiskstats wraps the ms fields at 32 bits like diskstats_show") {
  IoDeviceStat d;
  d.major = 254;
  d.read_ios = 1;
  d.read_ms = (uint64_t{1} << 32) + 5;
  d.write_ms = 7;
  CHECK(RenderDiskstats(kHost, {d}) ==
        IdleHostWith({" 254       0 vda 1 0 0 5 0 0 0 7 0 12 12 0 0 0 0 0 0"}));
  CHECK(RenderDiskstats("garbage\n 254 x vda 1\n", {d}) == "");
}
