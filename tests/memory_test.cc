#include <doctest/doctest.h>

#include "renderer/memory.h"
#include "tests/testing.h"

using namespace prochook;
using prochook::testing::TempDir;

TEST_CASE("ParseLimit reads numbers and max, rejects the rest") {
  CHECK(ParseLimit("268435456\n").value() == 268435456u);
  CHECK_FALSE(ParseLimit("max\n").value().has_value());
  CHECK_FALSE(ParseLimit("-1").ok());
  CHECK_FALSE(ParseLimit("").ok());
  CHECK_FALSE(ParseLimit("12abc").ok());
}

TEST_CASE("ParseFlatKeyed and NormalizeV1MemoryStat map v1 totals to v2 names") {
  auto v1 = ParseFlatKeyed(
      "cache 100\nrss 5\ntotal_cache 4096\ntotal_rss 8192\ntotal_shmem 1024\n"
      "total_active_file 2048\ntotal_inactive_file 1024\ntotal_swap 0\nbroken\nx y\n");
  CHECK(v1.at("cache") == 100);
  CHECK(v1.count("x") == 0);
  auto v2 = NormalizeV1MemoryStat(v1);
  CHECK(v2.at("file") == 4096);  // hierarchical total, not the cgroup's own 100
  CHECK(v2.at("anon") == 8192);
  CHECK(v2.at("shmem") == 1024);
  CHECK(v2.at("active_file") == 2048);
  CHECK(v2.at("inactive_file") == 1024);
  CHECK(v2.count("cache") == 0);
}

TEST_CASE("ReadMemoryCgroup v1: effective limit is the smallest along ancestors") {
  TempDir t;
  const std::string m = t.path() + "/memory";
  t.Write({
      {"memory/memory.limit_in_bytes", "9223372036854771712\n"},
      {"memory/outer/memory.limit_in_bytes", "134217728\n"},  // 128 MiB above
      {"memory/outer/ct/memory.limit_in_bytes", "268435456\n"},
      {"memory/outer/ct/memory.usage_in_bytes", "52428800\n"},
      {"memory/outer/ct/memory.stat", "total_cache 10485760\ntotal_rss 41943040\n"},
      {"memory/memory.memsw.limit_in_bytes", "9223372036854771712\n"},
      {"memory/outer/memory.memsw.limit_in_bytes", "201326592\n"},  // 192 MiB mem+swap
      {"memory/outer/ct/memory.memsw.limit_in_bytes", "536870912\n"},
      {"memory/outer/ct/memory.memsw.usage_in_bytes", "62914560\n"},
  });
  auto s = ReadMemoryCgroup({1, m + "/outer/ct", m});
  REQUIRE(s.ok());
  CHECK(*s->limit == 134217728u);
  CHECK(s->usage == 52428800u);
  CHECK(s->stat.at("file") == 10485760u);
  CHECK(*s->swap_usage == 10485760u);          // memsw - mem
  CHECK(*s->swap_limit == 201326592u - 134217728u);
}

TEST_CASE("ReadMemoryCgroup v1 without swap accounting leaves swap unknown") {
  TempDir t;
  t.Write({
      {"m/ct/memory.limit_in_bytes", "268435456\n"},
      {"m/ct/memory.usage_in_bytes", "1000\n"},
  });
  auto s = ReadMemoryCgroup({1, t.path() + "/m/ct", t.path() + "/m"});
  REQUIRE(s.ok());
  CHECK(*s->limit == 268435456u);
  CHECK_FALSE(s->swap_usage.has_value());
  CHECK(s->stat.empty());  // memory.stat missing: every stat field reads as 0
}

TEST_CASE("ReadMemoryCgroup v2: max, nested limits, swap files") {
  TempDir t;
  t.Write({
      {"cg/kubepods/memory.max", "1073741824\n"},
      {"cg/kubepods/memory.swap.max", "max\n"},
      {"cg/kubepods/pod/memory.max", "max\n"},
      {"cg/kubepods/pod/memory.swap.max", "33554432\n"},
      {"cg/kubepods/pod/ct/memory.max", "max\n"},
      {"cg/kubepods/pod/ct/memory.current", "300000000\n"},
      {"cg/kubepods/pod/ct/memory.swap.current", "1048576\n"},
      {"cg/kubepods/pod/ct/memory.swap.max", "max\n"},
      {"cg/kubepods/pod/ct/memory.stat", "anon 1000\nfile 2000\nslab_reclaimable 7\n"},
  });
  auto s = ReadMemoryCgroup({2, t.path() + "/cg/kubepods/pod/ct", t.path() + "/cg"});
  REQUIRE(s.ok());
  CHECK(*s->limit == 1073741824u);
  CHECK(s->usage == 300000000u);
  CHECK(*s->swap_limit == 33554432u);
  CHECK(*s->swap_usage == 1048576u);
  CHECK(s->stat.at("file") == 2000u);
  CHECK(s->stat.at("slab_reclaimable") == 7u);
}

TEST_CASE("ReadMemoryCgroup v2 with no limit anywhere and no swap controller") {
  TempDir t;
  t.Write({
      {"cg/ct/memory.max", "max\n"},
      {"cg/ct/memory.current", "4096\n"},
  });
  auto s = ReadMemoryCgroup({2, t.path() + "/cg/ct", t.path() + "/cg"});
  REQUIRE(s.ok());
  CHECK_FALSE(s->limit.has_value());
  CHECK_FALSE(s->swap_usage.has_value());
}

TEST_CASE("ReadMemoryCgroup fails when the cgroup itself is gone") {
  TempDir t;
  auto s = ReadMemoryCgroup({2, t.path() + "/gone", t.path()});
  REQUIRE_FALSE(s.ok());
  CHECK(s.error().message().find("memory.current") != std::string::npos);
}
