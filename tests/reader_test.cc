#include <doctest/doctest.h>

#include <chrono>
#include <fstream>
#include <thread>

#include "common/reader.h"
#include "tests/testing.h"

using namespace prochook;

TEST_CASE("KeptOpenReader re-reads a kept file from offset 0: the kernel's new content each time") {
  KeptOpenReader reader;
  // /proc/self/io counts the bytes this process has read: every read of it
  // changes the next one.
  auto a = reader.Read("/proc/self/io");
  auto b = reader.Read("/proc/self/io");
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  CHECK(a->rfind("rchar: ", 0) == 0);
  CHECK(*a != *b);
  CHECK(reader.open_files() == 1);
}

TEST_CASE("KeptOpenReader: whole files of any size, in-place updates seen, limits kept") {
  prochook::testing::TempDir t;
  const std::string big(100000, 'x');
  t.Write({{"big", big}, {"small", "one\n"}});
  KeptOpenReader reader;
  CHECK(reader.Read(t.path() + "/big").value() == big);
  CHECK(reader.Read(t.path() + "/small").value() == "one\n");
  t.Write({{"small", "two, longer\n"}});  // same inode, rewritten
  CHECK(reader.Read(t.path() + "/small").value() == "two, longer\n");
  t.Write({{"small", "3\n"}});
  CHECK(reader.Read(t.path() + "/small").value() == "3\n");
  auto capped = reader.Read(t.path() + "/big", 50000);
  REQUIRE_FALSE(capped.ok());
  CHECK(capped.error().message().find("too large") != std::string::npos);
  CHECK(reader.open_files() == 1);  // the failed read closed big; small stays open
}

TEST_CASE("KeptOpenReader remembers a missing file, reopens after a failed read, caps its fds") {
  prochook::testing::TempDir t;
  KeptOpenReader reader(2);
  auto missing = reader.Read(t.path() + "/later");
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().message().find("No such file") != std::string::npos);
  t.Write({{"later", "x\n"}});
  // Absence is remembered for a while (5 s by default): no open per read.
  CHECK_FALSE(reader.Read(t.path() + "/later").ok());
  CHECK(OpenEachTime().Read(t.path() + "/later").value() == "x\n");

  // A directory opens but cannot be read: an error, and nothing kept.
  CHECK_FALSE(reader.Read(t.path()).ok());
  CHECK(reader.open_files() == 0);

  t.Write({{"a", "a\n"}, {"b", "b\n"}, {"c", "c\n"}});
  CHECK(reader.Read(t.path() + "/a").value() == "a\n");  // kept: 2 entries with the missing one
  CHECK(reader.Read(t.path() + "/b").value() == "b\n");  // past the cap: read, not kept
  CHECK(reader.Read(t.path() + "/c").value() == "c\n");
  CHECK(reader.open_files() == 1);
}

TEST_CASE("KeptOpenReader looks again for a missing file once its absence is old: a controller enabled later") {
  prochook::testing::TempDir t;
  KeptOpenReader reader(128, /*absent_ms=*/100);
  t.Write({{"cg/cgroup.procs", "1\n"}});
  CHECK_FALSE(reader.Read(t.path() + "/cg/memory.max").ok());
  t.Write({{"cg/memory.max", "268435456\n"}});  // `+memory` in the parent's subtree_control
  CHECK_FALSE(reader.Read(t.path() + "/cg/memory.max").ok());  // still remembered as absent
  std::this_thread::sleep_for(std::chrono::milliseconds(150));
  CHECK(reader.Read(t.path() + "/cg/memory.max").value() == "268435456\n");
  CHECK(reader.open_files() == 1);
}

TEST_CASE("KeptOpenReader looks again for a file whose directory was missing (a cgroup removed, then made again)") {
  prochook::testing::TempDir t;
  KeptOpenReader reader;
  CHECK_FALSE(reader.Read(t.path() + "/cg/memory.usage_in_bytes").ok());
  CHECK_FALSE(reader.Read(t.path() + "/cg/memory.usage_in_bytes").ok());
  t.Write({{"cg/memory.usage_in_bytes", "4096\n"}});
  CHECK(reader.Read(t.path() + "/cg/memory.usage_in_bytes").value() == "4096\n");
  CHECK(reader.open_files() == 1);
}

TEST_CASE("KeptOpenReader reads sysfs and cgroupfs files whole, as the kernel has them now") {
  // One-record files: a short read is the whole file. Compare with a fresh
  // open each time (the kernel's own answer).
  KeptOpenReader reader;
  for (const char* path : {"/sys/devices/system/cpu/online", "/sys/devices/system/cpu/possible",
                           "/sys/fs/cgroup/memory/memory.stat", "/sys/fs/cgroup/cpu/cpu.cfs_period_us",
                           "/sys/fs/cgroup/cgroup.controllers"}) {
    auto fresh = OpenEachTime().Read(path);
    if (!fresh) continue;  // not on this machine's cgroup layout
    CAPTURE(path);
    auto kept = reader.Read(path);
    REQUIRE(kept.ok());
    if (std::string(path).find("memory.stat") == std::string::npos) {
      CHECK(*kept == *fresh);
      CHECK(reader.Read(path).value() == *fresh);
    } else {
      // Counters move: the same keys, in the same order.
      auto keys = [](const std::string& text) {
        std::string k;
        for (size_t i = 0; i < text.size();) {
          size_t sp = text.find(' ', i), nl = text.find('\n', i);
          if (nl == std::string::npos) break;
          k += text.substr(i, sp - i) + ",";
          i = nl + 1;
        }
        return k;
      };
      CHECK(keys(*kept) == keys(*fresh));
    }
  }
  CHECK(reader.open_files() >= 2);
}
