#include <doctest/doctest.h>

#include <string>

#include "renderer/memory.h"
#include "renderer/pressure.h"
#include "renderer/swaps.h"
#include "tests/testing.h"

using namespace prochook;
using prochook::testing::TempDir;

namespace {

constexpr char kHeader[] = "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n";
// A host with a partition and a file, as swap_show prints them.
constexpr char kHostSwaps[] =
    "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n"
    "/dev/vda3                               partition\t4194300\t\t1024\t\t-2\n"
    "/swapfile                               file\t\t2097148\t\t0\t\t-3\n";
constexpr uint64_t kHostKib = 4194300 + 2097148;
const std::string kPad(36, ' ');  // "none" + 36 columns = 40

MemorySnapshot Swap(std::optional<uint64_t> limit, uint64_t usage) {
  MemorySnapshot m;
  m.limit = 1 << 30;
  m.swap_limit = limit;
  m.swap_usage = usage;
  return m;
}

}  // namespace

TEST_CASE("RenderSwaps: header only without host swap, accounting, or show_swap") {
  const auto m = Swap(1 << 30, 0);
  CHECK(RenderSwaps(kHeader, m, true) == kHeader);  // host has no swap area
  CHECK(RenderSwaps("", m, true) == kHeader);
  CHECK(RenderSwaps(kHostSwaps, m, false) == kHeader);
  CHECK(RenderSwaps(kHostSwaps, std::nullopt, true) == kHeader);
  MemorySnapshot no_accounting;  // v1 with swapaccount=0
  CHECK(RenderSwaps(kHostSwaps, no_accounting, true) == kHeader);
  CHECK(RenderSwaps(kHostSwaps, Swap(0, 0), true) == kHeader);  // swap forbidden
}

TEST_CASE("RenderSwaps: one entry sized by the container's swap limit") {
  // v2: memory.swap.max 256 MiB, memory.swap.current 10 MiB.
  CHECK(RenderSwaps(kHostSwaps, Swap(256 << 20, 10 << 20), true) ==
        std::string(kHeader) + "none" + kPad + "partition\t262144\t\t10240\t\t-2\n");
  // No limit (v2 "max", or v1 without a memory limit): the host's total.
  CHECK(RenderSwaps(kHostSwaps, Swap(std::nullopt, 1536), true) ==
        std::string(kHeader) + "none" + kPad + "partition\t" + std::to_string(kHostKib) +
            "\t\t1\t\t-2\n");
  // A limit above the host's swap is the host's swap.
  CHECK(RenderSwaps(kHostSwaps, Swap(uint64_t{1} << 40, 0), true) ==
        std::string(kHeader) + "none" + kPad + "partition\t" + std::to_string(kHostKib) +
            "\t\t0\t\t-2\n");
}

TEST_CASE("RenderSwaps: usage above the limit is clamped; wide numbers lose a tab") {
  CHECK(RenderSwaps(kHostSwaps, Swap(1 << 20, 5 << 20), true) ==
        std::string(kHeader) + "none" + kPad + "partition\t1024\t\t1024\t\t-2\n");
  const std::string big_host =
      std::string(kHeader) + "/dev/sdb1                               partition\t20971516\t"
                             "0\t\t-2\n";
  CHECK(RenderSwaps(big_host, Swap(std::nullopt, uint64_t{12} << 30), true) ==
        std::string(kHeader) + "none" + kPad + "partition\t20971516\t12582912\t-2\n");
}

TEST_CASE("RenderSwaps from a v1 memsw snapshot read off fixtures") {
  TempDir t;
  t.Write({
      {"memory/ct/memory.limit_in_bytes", "268435456\n"},
      {"memory/ct/memory.usage_in_bytes", "134217728\n"},
      {"memory/ct/memory.memsw.limit_in_bytes", "402653184\n"},  // 128 MiB of swap
      {"memory/ct/memory.memsw.usage_in_bytes", "138412032\n"},  // 4 MiB swapped
  });
  auto m = ReadMemoryCgroup({1, t.path() + "/memory/ct", t.path() + "/memory"});
  REQUIRE(m.ok());
  CHECK(RenderSwaps(kHostSwaps, *m, true) ==
        std::string(kHeader) + "none" + kPad + "partition\t131072\t\t4096\t\t-2\n");
}

TEST_CASE("ValidatePressure accepts the kernel's shapes only") {
  const std::string some = "some avg10=0.00 avg60=0.00 avg300=0.12 total=58935267\n";
  const std::string full = "full avg10=1.50 avg60=0.00 avg300=0.15 total=10063220\n";
  CHECK(ValidatePressure(some + full, "cpu"));
  CHECK(ValidatePressure(some, "cpu"));  // before Linux 5.13
  CHECK(ValidatePressure(some + full, "memory"));
  CHECK(ValidatePressure(some + full, "io"));
  CHECK_FALSE(ValidatePressure(some, "memory"));
  CHECK_FALSE(ValidatePressure(some + full, "irq"));
  CHECK_FALSE(ValidatePressure(full + some, "io"));
  CHECK_FALSE(ValidatePressure(some + full + full, "io"));
  CHECK_FALSE(ValidatePressure(some + full.substr(0, full.size() - 1), "io"));  // cut short
  CHECK_FALSE(ValidatePressure("some avg10=0.0 avg60=0.00 avg300=0.00 total=0\n", "cpu"));
  CHECK_FALSE(ValidatePressure("some avg10=0.00 avg60=0.00 avg300=0.00 total=-1\n", "cpu"));
  CHECK_FALSE(ValidatePressure("some avg60=0.00 avg10=0.00 avg300=0.00 total=0\n", "cpu"));
  CHECK_FALSE(ValidatePressure("", "cpu"));
}

TEST_CASE("ReadPressure: v2 files only, well-formed only") {
  TempDir t;
  const std::string both =
      "some avg10=0.00 avg60=0.00 avg300=0.00 total=0\n"
      "full avg10=0.00 avg60=0.00 avg300=0.00 total=0\n";
  t.Write({
      {"cg/ct/cpu.pressure", both},
      {"cg/ct/memory.pressure", both},
      {"cg/ct/io.pressure", "some avg10=0.00 avg60=0.00 avg300=0.00 total=0\n"},  // no full
  });
  const CgroupDir v2{2, t.path() + "/cg/ct", t.path() + "/cg"};
  CHECK(ReadPressure(v2, "cpu") == both);
  CHECK(ReadPressure(v2, "memory") == both);
  CHECK_FALSE(ReadPressure(v2, "io").has_value());
  CHECK_FALSE(ReadPressure(v2, "../ct/cpu").has_value());
  CHECK_FALSE(ReadPressure({2, t.path() + "/cg/gone", t.path() + "/cg"}, "cpu").has_value());
  CHECK_FALSE(ReadPressure({1, t.path() + "/cg/ct", t.path() + "/cg"}, "cpu").has_value());
}
