#include <doctest/doctest.h>

#include <sstream>

#include "renderer/cpuinfo.h"

using namespace prochook;

namespace {

// A real x86 block (AMD EPYC VM; flags shortened, "pti        vmmcall" kept
// as the kernel prints it) with the topology fields as parameters.
std::string X86Block(int cpu, int phys, int core, int apic, int siblings, int cores) {
  auto n = [](int v) { return std::to_string(v); };
  return "processor\t: " + n(cpu) + "\n"
         "vendor_id\t: AuthenticAMD\n"
         "cpu family\t: 26\n"
         "model\t\t: 2\n"
         "model name\t: AMD EPYC\n"
         "stepping\t: 1\n"
         "cpu MHz\t\t: 2096.022\n"
         "cache size\t: 1024 KB\n"
         "physical id\t: " + n(phys) + "\n"
         "siblings\t: " + n(siblings) + "\n"
         "core id\t\t: " + n(core) + "\n"
         "cpu cores\t: " + n(cores) + "\n"
         "apicid\t\t: " + n(apic) + "\n"
         "initial apicid\t: " + n(apic) + "\n"
         "fpu\t\t: yes\n"
         "fpu_exception\t: yes\n"
         "cpuid level\t: 13\n"
         "wp\t\t: yes\n"
         "flags\t\t: fpu vme de pse tsc msr pae mce cx8 apic sep ht syscall nx pti        vmmcall avx2\n"
         "bugs\t\t: cpu_meltdown spectre_v1 spectre_v2 spec_store_bypass srso spectre_v2_user\n"
         "bogomips\t: 4192.04\n"
         "TLB size\t: 192 4K pages\n"
         "clflush size\t: 64\n"
         "cache_alignment\t: 64\n"
         "address sizes\t: 48 bits physical, 48 bits virtual\n"
         "power management:\n"
         "\n";
}

// One package, 2 cores x 2 threads: CPUs 0 and 2 share core 0, 1 and 3 core 1.
const std::string kHost4 = X86Block(0, 0, 0, 0, 4, 2) + X86Block(1, 0, 1, 2, 4, 2) +
                           X86Block(2, 0, 0, 1, 4, 2) + X86Block(3, 0, 1, 3, 4, 2);

// The values of every "key\t...: value" line of rendered text, in order.
std::vector<std::string> Values(const std::string& text, const std::string& key) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    size_t end = line.find_last_not_of(" \t", colon - 1);
    if (end != std::string::npos && line.substr(0, end + 1) == key) {
      out.push_back(line.substr(line.find_first_not_of(' ', colon + 1)));
    }
  }
  return out;
}

CpuView View(std::vector<int> visible) { return CpuView{visible, visible}; }

}  // namespace

TEST_CASE("ParseCpuinfo splits x86 text into processor blocks") {
  Cpuinfo c = ParseCpuinfo(kHost4);
  REQUIRE(c.blocks.size() == 4);
  for (int i = 0; i < 4; ++i) {
    CHECK(c.blocks[i].processor == i);
    CHECK(c.blocks[i].lines.size() == 26);
  }
  CHECK(c.blocks[1].lines[0] == "processor\t: 1");
  CHECK(c.blocks[1].lines[25] == "power management:");
  CHECK(c.ends_with_blank);
  CHECK(ParseCpuinfo("").blocks.empty());
}

TEST_CASE("RenderCpuinfo x86: view {1,3} is byte exact") {
  const std::string want =
      "processor\t: 0\n"
      "vendor_id\t: AuthenticAMD\n"
      "cpu family\t: 26\n"
      "model\t\t: 2\n"
      "model name\t: AMD EPYC\n"
      "stepping\t: 1\n"
      "cpu MHz\t\t: 2096.022\n"
      "cache size\t: 1024 KB\n"
      "physical id\t: 0\n"
      "siblings\t: 2\n"
      "core id\t\t: 1\n"
      "cpu cores\t: 1\n"
      "apicid\t\t: 2\n"
      "initial apicid\t: 2\n"
      "fpu\t\t: yes\n"
      "fpu_exception\t: yes\n"
      "cpuid level\t: 13\n"
      "wp\t\t: yes\n"
      "flags\t\t: fpu vme de pse tsc msr pae mce cx8 apic sep ht syscall nx pti        vmmcall avx2\n"
      "bugs\t\t: cpu_meltdown spectre_v1 spectre_v2 spec_store_bypass srso spectre_v2_user\n"
      "bogomips\t: 4192.04\n"
      "TLB size\t: 192 4K pages\n"
      "clflush size\t: 64\n"
      "cache_alignment\t: 64\n"
      "address sizes\t: 48 bits physical, 48 bits virtual\n"
      "power management:\n"
      "\n"
      "processor\t: 1\n"
      "vendor_id\t: AuthenticAMD\n"
      "cpu family\t: 26\n"
      "model\t\t: 2\n"
      "model name\t: AMD EPYC\n"
      "stepping\t: 1\n"
      "cpu MHz\t\t: 2096.022\n"
      "cache size\t: 1024 KB\n"
      "physical id\t: 0\n"
      "siblings\t: 2\n"
      "core id\t\t: 1\n"
      "cpu cores\t: 1\n"
      "apicid\t\t: 3\n"
      "initial apicid\t: 3\n"
      "fpu\t\t: yes\n"
      "fpu_exception\t: yes\n"
      "cpuid level\t: 13\n"
      "wp\t\t: yes\n"
      "flags\t\t: fpu vme de pse tsc msr pae mce cx8 apic sep ht syscall nx pti        vmmcall avx2\n"
      "bugs\t\t: cpu_meltdown spectre_v1 spectre_v2 spec_store_bypass srso spectre_v2_user\n"
      "bogomips\t: 4192.04\n"
      "TLB size\t: 192 4K pages\n"
      "clflush size\t: 64\n"
      "cache_alignment\t: 64\n"
      "address sizes\t: 48 bits physical, 48 bits virtual\n"
      "power management:\n"
      "\n";
  CHECK(RenderCpuinfo(ParseCpuinfo(kHost4), View({1, 3})) == want);
}

TEST_CASE("RenderCpuinfo x86: all CPUs visible reproduces the host file") {
  CHECK(RenderCpuinfo(ParseCpuinfo(kHost4), View({0, 1, 2, 3})) == kHost4);
}

TEST_CASE("RenderCpuinfo x86: topology counts per package") {
  struct Case {
    std::vector<int> visible;
    std::vector<std::string> siblings, cores, apicids;
  };
  // Two packages of 2 single-threaded cores each (CPUs 0-1 and 2-3).
  const std::string host = X86Block(0, 0, 0, 0, 2, 2) + X86Block(1, 0, 1, 1, 2, 2) +
                           X86Block(2, 1, 0, 16, 2, 2) + X86Block(3, 1, 1, 17, 2, 2);
  const Case cases[] = {
      {{0}, {"1"}, {"1"}, {"0"}},
      {{1, 2, 3}, {"1", "2", "2"}, {"1", "2", "2"}, {"1", "16", "17"}},
      {{0, 2}, {"1", "1"}, {"1", "1"}, {"0", "16"}},
      {{0, 1, 2, 3}, {"2", "2", "2", "2"}, {"2", "2", "2", "2"}, {"0", "1", "16", "17"}},
  };
  const Cpuinfo parsed = ParseCpuinfo(host);
  for (const Case& c : cases) {
    std::string out = RenderCpuinfo(parsed, View(c.visible));
    CAPTURE(out);
    std::vector<std::string> numbers;
    for (size_t i = 0; i < c.visible.size(); ++i) numbers.push_back(std::to_string(i));
    CHECK(Values(out, "processor") == numbers);
    CHECK(Values(out, "siblings") == c.siblings);
    CHECK(Values(out, "cpu cores") == c.cores);
    CHECK(Values(out, "apicid") == c.apicids);  // host identity kept
  }
  // SMT: CPUs 0 and 2 are one core's two threads.
  std::string out = RenderCpuinfo(ParseCpuinfo(kHost4), View({0, 2}));
  CHECK(Values(out, "siblings") == std::vector<std::string>{"2", "2"});
  CHECK(Values(out, "cpu cores") == std::vector<std::string>{"1", "1"});
}

TEST_CASE("RenderCpuinfo skips a visible CPU the host file lacks, numbers by view") {
  const std::string host = X86Block(0, 0, 0, 0, 3, 3) + X86Block(1, 0, 1, 1, 3, 3) +
                           X86Block(3, 0, 3, 3, 3, 3);  // CPU 2 went offline
  std::string out = RenderCpuinfo(ParseCpuinfo(host), View({1, 2, 3}));
  CHECK(Values(out, "processor") == std::vector<std::string>{"0", "2"});
  CHECK(Values(out, "siblings") == std::vector<std::string>{"2", "2"});
  CHECK(Values(out, "apicid") == std::vector<std::string>{"1", "3"});
  CHECK(RenderCpuinfo(ParseCpuinfo(host), View({})) == "");
}

TEST_CASE("RenderCpuinfo arm64: no topology fields, layout kept") {
  auto block = [](int cpu) {
    return "processor\t: " + std::to_string(cpu) +
           "\n"
           "BogoMIPS\t: 50.00\n"
           "Features\t: fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics fphp asimdhp cpuid\n"
           "CPU implementer\t: 0x41\n"
           "CPU architecture: 8\n"
           "CPU variant\t: 0x3\n"
           "CPU part\t: 0xd0c\n"
           "CPU revision\t: 1\n"
           "\n";
  };
  const std::string host = block(0) + block(1) + block(2) + block(3);
  CHECK(RenderCpuinfo(ParseCpuinfo(host), View({2, 3})) == block(0) + block(1));
}

TEST_CASE("RenderCpuinfo keeps global blocks: ppc64 summary without a final blank line") {
  const std::string host =
      "processor\t: 0\n"
      "cpu\t\t: POWER9 (architected), altivec supported\n"
      "revision\t: 2.2 (pvr 004e 1202)\n"
      "\n"
      "processor\t: 8\n"
      "cpu\t\t: POWER9 (architected), altivec supported\n"
      "revision\t: 2.2 (pvr 004e 1202)\n"
      "\n"
      "timebase\t: 512000000\n"
      "platform\t: pSeries\n"
      "MMU\t\t: Radix\n";
  Cpuinfo c = ParseCpuinfo(host);
  REQUIRE(c.blocks.size() == 3);
  CHECK_FALSE(c.blocks[2].processor.has_value());
  CHECK_FALSE(c.ends_with_blank);
  CHECK(RenderCpuinfo(c, View({8})) ==
        "processor\t: 0\n"
        "cpu\t\t: POWER9 (architected), altivec supported\n"
        "revision\t: 2.2 (pvr 004e 1202)\n"
        "\n"
        "timebase\t: 512000000\n"
        "platform\t: pSeries\n"
        "MMU\t\t: Radix\n");
  std::string renumbered = host;
  renumbered[renumbered.find("processor\t: 8") + 12] = '1';
  CHECK(RenderCpuinfo(c, View({0, 8})) == renumbered);
}

TEST_CASE("RenderCpuinfo keeps leading and trailing global blocks in place") {
  // arm32 (Raspberry Pi): trailing space after Features, Hardware block last.
  const std::string host =
      "leading\t: global\n"
      "\n"
      "processor\t: 0\n"
      "model name\t: ARMv7 Processor rev 4 (v7l)\n"
      "Features\t: half thumb fastmult vfp edsp neon vfpv3 tls vfpv4 idiva idivt \n"
      "\n"
      "processor\t: 1\n"
      "model name\t: ARMv7 Processor rev 4 (v7l)\n"
      "Features\t: half thumb fastmult vfp edsp neon vfpv3 tls vfpv4 idiva idivt \n"
      "\n"
      "Hardware\t: BCM2835\n"
      "Revision\t: a02082\n"
      "Serial\t\t: 00000000deadbeef\n"
      "Model\t\t: Raspberry Pi 3 Model B Rev 1.2\n";
  CHECK(RenderCpuinfo(ParseCpuinfo(host), View({1})) ==
        "leading\t: global\n"
        "\n"
        "processor\t: 0\n"
        "model name\t: ARMv7 Processor rev 4 (v7l)\n"
        "Features\t: half thumb fastmult vfp edsp neon vfpv3 tls vfpv4 idiva idivt \n"
        "\n"
        "Hardware\t: BCM2835\n"
        "Revision\t: a02082\n"
        "Serial\t\t: 00000000deadbeef\n"
        "Model\t\t: Raspberry Pi 3 Model B Rev 1.2\n");
  CHECK(RenderCpuinfo(ParseCpuinfo(host), View({0, 1})) == host);
}
