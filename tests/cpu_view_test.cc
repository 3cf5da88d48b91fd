#include <doctest/doctest.h>

#include "renderer/cpu_view.h"
#include "tests/testing.h"

using namespace prochook;
using prochook::testing::TempDir;

namespace {

std::vector<int> Range(int lo, int hi) {
  std::vector<int> v;
  for (int c = lo; c <= hi; ++c) v.push_back(c);
  return v;
}

}  // namespace

TEST_CASE("ParseCpuList accepts kernel lists") {
  struct Case {
    const char* text;
    std::vector<int> want;
  };
  const Case cases[] = {
      {"", {}},
      {"\n", {}},
      {"5", {5}},
      {"0-3,8,10-11\n", {0, 1, 2, 3, 8, 10, 11}},
      {"0-1\n", {0, 1}},
      {"  2,0 \t\n", {0, 2}},  // unsorted input comes back sorted
      {"1-3,2-4", {1, 2, 3, 4}},
      {"7-7", {7}},
      {"65535", {65535}},
  };
  for (const Case& c : cases) {
    CAPTURE(c.text);
    auto got = ParseCpuList(c.text);
    REQUIRE(got.ok());
    CHECK(*got == c.want);
  }
}

TEST_CASE("ParseCpuList rejects malformed lists") {
  for (const char* text :
       {"3-1", "a", "1,,2", ",1", "1,", "1-", "-1", "1-2-3", "1 2", "1, 2", "0x1", "+1",
        "65536", "0-65536", "99999999999999999999", "0-3:1/2"}) {
    CAPTURE(text);
    CHECK_FALSE(ParseCpuList(text).ok());
  }
}

TEST_CASE("FormatCpuList writes kernel style and round trips") {
  CHECK(FormatCpuList({}) == "");
  CHECK(FormatCpuList({5}) == "5");
  CHECK(FormatCpuList({0, 1}) == "0-1");
  CHECK(FormatCpuList({0, 1, 2, 3, 8}) == "0-3,8");
  CHECK(FormatCpuList({11, 10, 8, 3, 2, 1, 0}) == "0-3,8,10-11");
  for (const char* text : {"0", "0-1", "0-3,8,10-11", "1,3,5,7", "0-127", "4-5,9,63-64"}) {
    CAPTURE(text);
    CHECK(FormatCpuList(ParseCpuList(text).value()) == text);
  }
}

TEST_CASE("ComputeCpuView: cpuset, quota and mode") {
  const std::vector<int> online = Range(0, 15);
  const std::vector<int> set = {0, 1, 2, 3, 8, 10, 11};
  struct Case {
    const char* name;
    CpuLimits limits;
    CpuViewMode mode;
    std::vector<int> visible;
    std::vector<int> allowed;
  };
  const auto both = CpuViewMode::kCpusetAndQuota;
  const Case cases[] = {
      {"cpuset only, no quota", {set, std::nullopt}, both, set, set},
      {"quota 1.5 takes the first 2", {set, 1.5}, both, {0, 1}, set},
      {"quota 2.0 is exactly 2", {set, 2.0}, both, {0, 1}, set},
      {"quota 2.0000001 is 3", {set, 2.0000001}, both, {0, 1, 2}, set},
      {"quota 0.2 is at least 1", {set, 0.2}, both, {0}, set},
      {"quota 0 is at least 1", {set, 0.0}, both, {0}, set},
      {"quota 4.5 reaches past a gap", {set, 4.5}, both, {0, 1, 2, 3, 8}, set},
      {"quota above the set is the set", {set, 64.0}, both, set, set},
      {"huge quota", {set, 1e300}, both, set, set},
      {"cpuset-only mode ignores quota", {set, 1.5}, CpuViewMode::kCpusetOnly, set, set},
      {"unknown cpuset is online", {{}, std::nullopt}, both, online, online},
      {"unknown cpuset with quota", {{}, 3.0}, both, {0, 1, 2}, online},
      {"cpuset disjoint from online", {{16, 17}, std::nullopt}, both, online, online},
      {"cpuset partly offline", {{14, 15, 16, 17}, 1.0}, both, {14}, {14, 15}},
  };
  for (const Case& c : cases) {
    CAPTURE(c.name);
    CpuView v = ComputeCpuView(c.limits, online, c.mode);
    CHECK(v.visible == c.visible);
    CHECK(v.allowed == c.allowed);
  }
}

TEST_CASE("ComputeCpuView with sparse online CPUs and no online CPUs") {
  CpuView v = ComputeCpuView({{}, 1.0}, {2, 5, 7}, CpuViewMode::kCpusetAndQuota);
  CHECK(v.visible == std::vector<int>{2});
  CHECK(v.allowed == std::vector<int>{2, 5, 7});
  v = ComputeCpuView({{0, 1}, 1.0}, {}, CpuViewMode::kCpusetAndQuota);
  CHECK(v.visible.empty());
  CHECK(v.allowed.empty());
}

TEST_CASE("ReadCpuLimits v1: nested cgroups, smallest quota along ancestors") {
  TempDir t;
  t.Write({
      {"cpuset/cpuset.effective_cpus", "0-15\n"},
      {"cpuset/docker/cpuset.effective_cpus", "0-7\n"},
      {"cpuset/docker/ct/cpuset.cpus", "0-3,8\n"},
      {"cpuset/docker/ct/cpuset.effective_cpus", "0-3\n"},  // 8 is not in the parent's
      {"cpu/cpu.cfs_quota_us", "-1\n"},
      {"cpu/cpu.cfs_period_us", "100000\n"},
      {"cpu/docker/cpu.cfs_quota_us", "150000\n"},  // 1.5 above the container
      {"cpu/docker/cpu.cfs_period_us", "100000\n"},
      {"cpu/docker/ct/cpu.cfs_quota_us", "300000\n"},
      {"cpu/docker/ct/cpu.cfs_period_us", "100000\n"},
  });
  const std::string p = t.path();
  CpuLimits l = ReadCpuLimits({1, p + "/cpuset/docker/ct", p + "/cpuset"},
                              {1, p + "/cpu/docker/ct", p + "/cpu"});
  CHECK(l.cpuset == std::vector<int>{0, 1, 2, 3});
  REQUIRE(l.quota.has_value());
  CHECK(*l.quota == doctest::Approx(1.5));
}

TEST_CASE("ReadCpuLimits v1: cpuset.cpus fallback, -1 everywhere, missing files") {
  TempDir t;
  t.Write({
      {"cpuset/ct/cpuset.cpus", "2-3\n"},  // no effective_cpus (old kernels)
      {"cpu/ct/cpu.cfs_quota_us", "-1\n"},
      {"cpu/ct/cpu.cfs_period_us", "100000\n"},
      {"cpu/cpu.cfs_quota_us", "-1\n"},  // period missing at the root: no limit
  });
  const std::string p = t.path();
  CpuLimits l =
      ReadCpuLimits({1, p + "/cpuset/ct", p + "/cpuset"}, {1, p + "/cpu/ct", p + "/cpu"});
  CHECK(l.cpuset == std::vector<int>{2, 3});
  CHECK_FALSE(l.quota.has_value());

  // Empty effective_cpus falls back to cpuset.cpus; both empty is unknown.
  t.Write({{"cpuset/a/cpuset.effective_cpus", "\n"}, {"cpuset/a/cpuset.cpus", "5\n"}});
  CHECK(ReadCpuLimits({1, p + "/cpuset/a", p + "/cpuset/a"}, {}).cpuset == std::vector<int>{5});
  t.Write({{"cpuset/b/cpuset.effective_cpus", ""}, {"cpuset/b/cpuset.cpus", "\n"}});
  CHECK(ReadCpuLimits({1, p + "/cpuset/b", p + "/cpuset/b"}, {}).cpuset.empty());
  // Nothing there at all.
  l = ReadCpuLimits({1, p + "/none", p + "/none"}, {1, p + "/none", p + "/none"});
  CHECK(l.cpuset.empty());
  CHECK_FALSE(l.quota.has_value());
}

TEST_CASE("ReadCpuLimits v1: a quota with an odd period") {
  TempDir t;
  t.Write({
      {"cpu/ct/cpu.cfs_quota_us", "25000\n"},
      {"cpu/ct/cpu.cfs_period_us", "50000\n"},
  });
  CpuLimits l = ReadCpuLimits({}, {1, t.path() + "/cpu/ct", t.path() + "/cpu"});
  REQUIRE(l.quota.has_value());
  CHECK(*l.quota == doctest::Approx(0.5));
}

TEST_CASE("ReadCpuLimits v2: cpu.max max at child, limit at parent; effective cpuset") {
  TempDir t;
  t.Write({
      {"cg/cpuset.cpus.effective", "0-15\n"},
      {"cg/kubepods/cpu.max", "50000 100000\n"},
      {"cg/kubepods/cpuset.cpus.effective", "0-7\n"},
      {"cg/kubepods/pod/cpu.max", "max 100000\n"},
      {"cg/kubepods/pod/ct/cpu.max", "max 100000\n"},
      {"cg/kubepods/pod/ct/cpuset.cpus.effective", "4-7\n"},
  });
  const CgroupDir cg{2, t.path() + "/cg/kubepods/pod/ct", t.path() + "/cg"};
  CpuLimits l = ReadCpuLimits(cg, cg);
  CHECK(l.cpuset == std::vector<int>{4, 5, 6, 7});
  REQUIRE(l.quota.has_value());
  CHECK(*l.quota == doctest::Approx(0.5));
  CpuView v = ComputeCpuView(l, Range(0, 15), CpuViewMode::kCpusetAndQuota);
  CHECK(v.visible == std::vector<int>{4});
  CHECK(v.allowed == std::vector<int>{4, 5, 6, 7});
}

TEST_CASE("ReadCpuLimits v2: child quota smaller; cpuset from the nearest ancestor") {
  TempDir t;
  t.Write({
      {"cg/cpuset.cpus.effective", "0-3\n"},
      {"cg/sys/cpu.max", "400000 100000\n"},
      {"cg/sys/ct/cpu.max", "150000 100000\n"},  // no cpuset files: controller not enabled
  });
  const CgroupDir cg{2, t.path() + "/cg/sys/ct", t.path() + "/cg"};
  CpuLimits l = ReadCpuLimits(cg, cg);
  CHECK(l.cpuset == std::vector<int>{0, 1, 2, 3});
  REQUIRE(l.quota.has_value());
  CHECK(*l.quota == doctest::Approx(1.5));
}

TEST_CASE("ReadCpuLimits: absent controllers and malformed files mean no limit") {
  TempDir t;
  t.Write({
      {"cg/ct/cpu.max", "garbage\n"},
      {"cg/ct/cpuset.cpus.effective", "3-1\n"},
      {"cg/cpu.max", "100000 0\n"},  // a zero period is not a ratio
  });
  const CgroupDir cg{2, t.path() + "/cg/ct", t.path() + "/cg"};
  CpuLimits l = ReadCpuLimits(cg, cg);
  CHECK(l.cpuset.empty());
  CHECK_FALSE(l.quota.has_value());

  t.Write({{"cg/ct/cpu.max", "100000 100000\n"}, {"cg/ct/cpuset.cpus.effective", "1\n"}});
  l = ReadCpuLimits(CgroupDir{0, cg.dir, cg.mount}, CgroupDir{0, cg.dir, cg.mount});
  CHECK(l.cpuset.empty());
  CHECK_FALSE(l.quota.has_value());
}
