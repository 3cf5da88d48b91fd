// PlanBlockStat over a fixture sysfs: /sys/class/block entries are
// symlinks into /sys/devices, as the kernel makes them.
#include <doctest/doctest.h>
#include <linux/magic.h>
#include <unistd.h>

#include <filesystem>

#include "hook/block_plans.h"
#include "tests/testing.h"

using namespace prochook;
using prochook::testing::TempDir;

namespace {

struct FixtureSys {
  TempDir t;
  std::string sys = t.path() + "/sys";
  FixtureSys() {
    t.Write({{"sys/devices/pci0000:00/0000:00:02.0/virtio1/block/vda/stat", ""},
             {"sys/devices/pci0000:00/0000:00:02.0/virtio1/block/vda/vda1/stat", ""},
             {"sys/devices/virtual/block/loop0/stat", ""},
             {"sys/class/block/.keep", ""},
             {"elsewhere/stat", ""}});
    Link("../../devices/pci0000:00/0000:00:02.0/virtio1/block/vda", "vda");
    Link("../../devices/pci0000:00/0000:00:02.0/virtio1/block/vda/vda1", "vda1");
    Link("../../devices/virtual/block/loop0", "loop0");
    Link("../../../elsewhere", "evil");
    Link("../../devices/../../elsewhere", "dotdot");
  }
  void Link(const std::string& to, const std::string& name) {
    std::filesystem::create_symlink(to, sys + "/class/block/" + name);
  }
};

}  // namespace

TEST_CASE("PlanBlockStat: the device's own stat file under /sys/devices, a sysfs file") {
  FixtureSys f;
  auto vda = PlanBlockStat("/run/prochook/x", "vda", f.sys);
  REQUIRE_MESSAGE(vda.ok(), vda.error().message());
  REQUIRE(vda->has_value());
  CHECK((*vda)->source == "/run/prochook/x/sys-block/vda");
  CHECK((*vda)->target == "sys/devices/pci0000:00/0000:00:02.0/virtio1/block/vda/stat");
  CHECK((*vda)->fs_magic == SYSFS_MAGIC);
  CHECK_FALSE((*vda)->directory);
  // A partition's directory is inside its disk's.
  auto vda1 = PlanBlockStat("/s", "vda1", f.sys);
  REQUIRE(vda1.ok());
  REQUIRE(vda1->has_value());
  CHECK((*vda1)->target == "sys/devices/pci0000:00/0000:00:02.0/virtio1/block/vda/vda1/stat");
  auto loop0 = PlanBlockStat("/s", "loop0", f.sys);
  REQUIRE(loop0.ok());
  CHECK((*loop0)->target == "sys/devices/virtual/block/loop0/stat");
}

TEST_CASE("PlanBlockStat: a device gone is no mount; an entry outside /sys/devices or a bad name is an error") {
  FixtureSys f;
  auto gone = PlanBlockStat("/s", "sdz", f.sys);
  REQUIRE(gone.ok());
  CHECK_FALSE(gone->has_value());
  auto evil = PlanBlockStat("/s", "evil", f.sys);
  REQUIRE_FALSE(evil.ok());
  CHECK(evil.error().message().find("not below /sys/devices") != std::string::npos);
  auto dotdot = PlanBlockStat("/s", "dotdot", f.sys);
  REQUIRE_FALSE(dotdot.ok());
  CHECK(dotdot.error().message().find("not below /sys/devices") != std::string::npos);
  for (const char* bad : {"", ".", "..", "../block/vda"}) {
    CAPTURE(bad);
    CHECK_FALSE(PlanBlockStat("/s", bad, f.sys).ok());
  }
}
