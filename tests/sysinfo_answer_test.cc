#include <doctest/doctest.h>
#include <sys/sysinfo.h>

#include <cstring>

#include "agent/answer.h"
#include "agent/handoff.h"

using namespace prochook;

namespace {

// A container's /proc/meminfo as the renderer writes it (256 MiB limit,
// 64 MiB of shmem, swap limit 128 MiB), and its /proc/loadavg.
constexpr char kMeminfo[] = R"(MemTotal:         262144 kB
MemFree:          180000 kB
MemAvailable:     190000 kB
Buffers:               0 kB
Cached:            70000 kB
SwapCached:            0 kB
Active:            40000 kB
Inactive:          30000 kB
SwapTotal:        131072 kB
SwapFree:         131000 kB
Dirty:                 0 kB
Shmem:             65536 kB
HugePages_Total:       0
Hugepagesize:       2048 kB
)";
constexpr char kLoadavg[] = "1.50 0.25 0.00 2/7 4321\n";

}  // namespace

TEST_CASE("ParseSysinfoFigures reads the rendered meminfo and loadavg") {
  auto f = ParseSysinfoFigures(kMeminfo, kLoadavg);
  REQUIRE(f.ok());
  CHECK(f->totalram == 256ull << 20);
  CHECK(f->freeram == 180000ull << 10);
  CHECK(f->sharedram == 64ull << 20);
  CHECK(f->bufferram == 0);
  CHECK(f->totalswap == 128ull << 20);
  CHECK(f->freeswap == 131000ull << 10);
  CHECK(f->procs == 7);
  // 1.50, 0.25, 0.00 with 16 fractional bits (SI_LOAD_SHIFT).
  CHECK(f->loads[0] == 98304);
  CHECK(f->loads[1] == 16384);
  CHECK(f->loads[2] == 0);
}

TEST_CASE("ParseSysinfoFigures has no answer for files it cannot read") {
  const std::string no_shmem = "MemTotal: 1 kB\nMemFree: 1 kB\nBuffers: 0 kB\nSwapTotal: 0 kB\nSwapFree: 0 kB\n";
  const char* bad_loads[] = {"", "1.5 0.25 0.00 2/7 1", "1.50 0.25 0.00 7 1", "1.50 0.25 2/7 1",
                             "x.50 0.25 0.00 2/7 1", "1.50 0.25 0.00 2/x 1"};
  CHECK_FALSE(ParseSysinfoFigures(no_shmem, kLoadavg).ok());
  CHECK_FALSE(ParseSysinfoFigures("", kLoadavg).ok());
  for (const char* l : bad_loads) {
    CAPTURE(std::string(l));
    CHECK_FALSE(ParseSysinfoFigures(kMeminfo, l).ok());
  }
  // kB values that would overflow as bytes.
  std::string huge = kMeminfo;
  huge.replace(huge.find("262144"), 6, "18446744073709551615");
  CHECK_FALSE(ParseSysinfoFigures(huge, kLoadavg).ok());
}

TEST_CASE("SysinfoUptime counts a started second, as the kernel") {
  CHECK(SysinfoUptime(100, 0) == 100);
  CHECK(SysinfoUptime(100, 1) == 101);
}

TEST_CASE("EncodeSysinfo lays out the native struct sysinfo") {
  auto f = ParseSysinfoFigures(kMeminfo, kLoadavg);
  REQUIRE(f.ok());
  const std::string bytes = EncodeSysinfo(*f, 1234, /*compat32=*/false);
  REQUIRE(bytes.size() == sizeof(struct sysinfo));
  struct sysinfo s;
  std::memcpy(&s, bytes.data(), sizeof s);
  CHECK(s.uptime == 1234);
  CHECK(s.totalram == 256ul << 20);
  CHECK(s.freeram == 180000ul << 10);
  CHECK(s.sharedram == 64ul << 20);
  CHECK(s.totalswap == 128ul << 20);
  CHECK(s.procs == 7);
  CHECK(s.loads[0] == 98304);
  CHECK(s.totalhigh == 0);
  CHECK(s.freehigh == 0);
  CHECK(s.mem_unit == 1);
}

namespace {

// The i386 struct sysinfo, read field by field at its offsets.
uint32_t U32At(const std::string& b, size_t off) {
  uint32_t v;
  std::memcpy(&v, b.data() + off, 4);
  return v;
}
uint16_t U16At(const std::string& b, size_t off) {
  uint16_t v;
  std::memcpy(&v, b.data() + off, 2);
  return v;
}

}  // namespace

TEST_CASE("EncodeSysinfo lays out the i386 struct, in pages when bytes do not fit 32 bits") {
  auto f = ParseSysinfoFigures(kMeminfo, kLoadavg);
  REQUIRE(f.ok());
  std::string b = EncodeSysinfo(*f, 99, /*compat32=*/true);
  REQUIRE(b.size() == 64);
  CHECK(U32At(b, 0) == 99);            // uptime
  CHECK(U32At(b, 4) == 98304);         // loads[0]
  CHECK(U32At(b, 16) == 256u << 20);   // totalram
  CHECK(U32At(b, 20) == 180000u << 10);  // freeram
  CHECK(U32At(b, 24) == 64u << 20);    // sharedram
  CHECK(U32At(b, 32) == 128u << 20);   // totalswap
  CHECK(U16At(b, 40) == 7);            // procs
  CHECK(U32At(b, 52) == 1);            // mem_unit
  // 8 GiB does not fit: pages of 4 KiB, as compat_sysinfo scales.
  f->totalram = 8ull << 30;
  f->procs = 100000;
  b = EncodeSysinfo(*f, 99, true);
  CHECK(U32At(b, 16) == ((8ull << 30) >> 12));
  CHECK(U32At(b, 20) == (180000u << 10 >> 12));
  CHECK(U16At(b, 40) == 65535);  // an unsigned short
  CHECK(U32At(b, 52) == 4096);
}

TEST_CASE("ParseHandoffMessage takes the init's pid from the runtime's state") {
  // What runc 1.1 sends (libcontainer's ContainerProcessState).
  const char* runc =
      R"({"ociVersion":"1.0.2-dev","fds":["seccompFd"],"pid":1234,"metadata":"",)"
      R"("state":{"ociVersion":"1.0.2-dev","id":"web","status":"creating","pid":5678,"bundle":"/b"}})";
  auto pid = ParseHandoffMessage(runc);
  REQUIRE(pid.ok());
  CHECK(*pid == 5678);
  auto no_state = ParseHandoffMessage(R"({"fds":["seccompFd"]})");
  REQUIRE(no_state.ok());
  CHECK(*no_state == 0);
  CHECK_FALSE(ParseHandoffMessage(R"({"fds":[]})").ok());
  CHECK_FALSE(ParseHandoffMessage(R"({"state":{"pid":1}})").ok());
  CHECK_FALSE(ParseHandoffMessage("not json").ok());
}
