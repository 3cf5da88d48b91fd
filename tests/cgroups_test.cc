#include <doctest/doctest.h>

#include "common/mountinfo.h"
#include "hook/cgroups.h"

using namespace prochook;

namespace {

// This machine: hybrid, every controller on v1, cgroup2 holding only hugetlb.
constexpr char kHybridMountinfo[] =
    "26 1 254:0 / / rw,relatime - ext4 /dev/vda rw,discard\n"
    "30 22 0:27 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
    "31 30 0:28 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"
    "32 30 0:29 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct\n"
    "33 30 0:30 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset\n"
    "34 30 0:31 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
    "37 30 0:34 / /sys/fs/cgroup/blkio rw,relatime - cgroup cgroup rw,blkio\n"
    "38 30 0:35 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids\n"
    "39 30 0:36 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd\n"
    "40 30 0:37 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n";
constexpr char kHybridCgroup[] =
    "9:name=systemd:/\n8:pids:/ct/a\n7:blkio:/ct/a\n4:memory:/ct/a\n3:cpuset:/ct/a\n"
    "2:cpuacct:/ct/a\n1:cpu:/ct/a\n0::/\n";

// A systemd host on pure cgroup v2 (Debian 12 default).
constexpr char kV2Mountinfo[] =
    "25 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n"
    "28 24 0:24 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:9 - cgroup2 cgroup2 "
    "rw,nsdelegate,memory_recursiveprot\n";
constexpr char kV2Cgroup[] = "0::/system.slice/docker-abc.scope\n";

// Older systemd hybrid with controllers on v1 and named v1 systemd plus a
// cgroup v2 that carries memory and io (e.g. a hand-configured host).
constexpr char kMixedMountinfo[] =
    "30 22 0:27 / /sys/fs/cgroup rw - tmpfs tmpfs rw\n"
    "31 30 0:28 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct\n"
    "40 30 0:37 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw\n";
constexpr char kMixedCgroup[] = "3:cpu,cpuacct:/k/p1\n0::/k/p1\n";

}  // namespace

TEST_CASE("ParseMountinfo reads fields, optional tags and octal escapes") {
  auto m = ParseMountinfo(
      "36 35 98:0 /mnt1 /mnt\\040two rw,noatime master:1 shared:7 - ext3 /dev/root rw,errors=continue\n"
      "garbage line\n"
      "37 35 0:5 / /x rw - proc proc rw\n");
  REQUIRE(m.size() == 2);
  CHECK(m[0].mount_id == 36);
  CHECK(m[0].parent_id == 35);
  CHECK(m[0].root == "/mnt1");
  CHECK(m[0].mount_point == "/mnt two");
  CHECK(m[0].fs_type == "ext3");
  CHECK(m[0].source == "/dev/root");
  CHECK(m[0].super_options == "rw,errors=continue");
  CHECK(IsShared(m[0]));
  CHECK_FALSE(IsShared(m[1]));
  CHECK(m[1].optional_fields.empty());
}

TEST_CASE("ParseProcCgroup keeps v1 controller lists, v2 entry and colons in paths") {
  auto e = ParseProcCgroup("4:memory:/ct/a\n3:cpu,cpuacct:/x:y\n0::/\nbad\n");
  REQUIRE(e.size() == 3);
  CHECK(e[0].hierarchy == 4);
  CHECK(e[0].controllers == std::vector<std::string>{"memory"});
  CHECK(e[1].controllers == std::vector<std::string>{"cpu", "cpuacct"});
  CHECK(e[1].path == "/x:y");
  CHECK(e[2].hierarchy == 0);
  CHECK(e[2].controllers.empty());
}

TEST_CASE("LocateCgroups on this machine's hybrid layout uses v1 for every controller") {
  auto cg = LocateCgroups(ParseProcCgroup(kHybridCgroup), ParseMountinfo(kHybridMountinfo),
                          {"hugetlb"});
  CHECK(cg.at("memory").version == 1);
  CHECK(cg.at("memory").dir == "/sys/fs/cgroup/memory/ct/a");
  CHECK(cg.at("memory").mount == "/sys/fs/cgroup/memory");
  CHECK(cg.at("cpu").dir == "/sys/fs/cgroup/cpu/ct/a");
  CHECK(cg.at("cpuacct").dir == "/sys/fs/cgroup/cpuacct/ct/a");
  CHECK(cg.at("cpuset").dir == "/sys/fs/cgroup/cpuset/ct/a");
  CHECK(cg.at("blkio").dir == "/sys/fs/cgroup/blkio/ct/a");
  CHECK(cg.at("pids").dir == "/sys/fs/cgroup/pids/ct/a");
}

TEST_CASE("LocateCgroups on pure v2 finds every enabled controller in one directory") {
  auto cg = LocateCgroups(ParseProcCgroup(kV2Cgroup), ParseMountinfo(kV2Mountinfo),
                          {"cpuset", "cpu", "io", "memory", "pids"});
  for (const char* c : {"memory", "cpu", "cpuacct", "cpuset", "blkio", "pids"}) {
    CAPTURE(c);
    CHECK(cg.at(c).version == 2);
    CHECK(cg.at(c).dir == "/sys/fs/cgroup/system.slice/docker-abc.scope");
    CHECK(cg.at(c).mount == "/sys/fs/cgroup");
  }
  // Without the memory controller on v2, memory is absent (host values).
  auto no_mem = LocateCgroups(ParseProcCgroup(kV2Cgroup), ParseMountinfo(kV2Mountinfo), {"cpu"});
  CHECK_FALSE(no_mem.at("memory").present());
  CHECK(no_mem.at("cpuacct").present());  // cpu.stat exists in every v2 cgroup
}

TEST_CASE("LocateCgroups on a mixed hybrid: v1 first, then v2 for what v2 carries") {
  auto cg = LocateCgroups(ParseProcCgroup(kMixedCgroup), ParseMountinfo(kMixedMountinfo),
                          {"memory", "io"});
  CHECK(cg.at("cpu").version == 1);
  CHECK(cg.at("cpu").dir == "/sys/fs/cgroup/cpu,cpuacct/k/p1");
  CHECK(cg.at("cpuacct").version == 1);
  CHECK(cg.at("memory").version == 2);
  CHECK(cg.at("memory").dir == "/sys/fs/cgroup/unified/k/p1");
  CHECK(cg.at("blkio").version == 2);
  CHECK_FALSE(cg.at("pids").present());
  CHECK_FALSE(cg.at("cpuset").present());
}

TEST_CASE("LocateCgroups honours a mount of a subtree and refuses paths outside it") {
  // Inside a cgroup namespace the hierarchy is mounted from a sub-root.
  auto mounts = ParseMountinfo("50 1 0:31 /ct /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n");
  auto inside = LocateCgroups(ParseProcCgroup("4:memory:/ct/a/b\n"), mounts, {});
  CHECK(inside.at("memory").dir == "/sys/fs/cgroup/memory/a/b");
  auto outside = LocateCgroups(ParseProcCgroup("4:memory:/other\n"), mounts, {});
  CHECK_FALSE(outside.at("memory").present());
  auto escaped = LocateCgroups(ParseProcCgroup("4:memory:/../x\n"),
                               ParseMountinfo(kHybridMountinfo), {});
  CHECK_FALSE(escaped.at("memory").present());
}

TEST_CASE("Ancestors walks from the cgroup up to the mount point") {
  CgroupDir d{1, "/sys/fs/cgroup/memory/a/b", "/sys/fs/cgroup/memory"};
  CHECK(Ancestors(d) == std::vector<std::string>{"/sys/fs/cgroup/memory/a/b",
                                                 "/sys/fs/cgroup/memory/a",
                                                 "/sys/fs/cgroup/memory"});
  CgroupDir root{2, "/sys/fs/cgroup", "/sys/fs/cgroup"};
  CHECK(Ancestors(root) == std::vector<std::string>{"/sys/fs/cgroup"});
}
