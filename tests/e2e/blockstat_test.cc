// The block devices' stat files (/sys/block/<dev>/stat, which iostat reads)
// and meminfo's commit lines (sar -r's %commit), as real tools inside a real
// runc container see them while the host does I/O of its own.
#include <doctest/doctest.h>

#include <stdlib.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <filesystem>
#include <iterator>
#include <regex>
#include <sstream>
#include <thread>

#include "tests/e2e/harness.h"

namespace fs = std::filesystem;
using namespace prochook::e2e;
using namespace std::chrono_literals;

namespace {

constexpr uint64_t kContainerKiB = 64 * 1024;  // what the container writes
constexpr uint64_t kHostMiB = 200;             // what the host writes meanwhile

std::string Out(const Container& c, const std::vector<std::string>& argv) {
  RunResult r = c.Exec(argv);
  INFO("command: " << argv[0] << " stderr: " << r.err);
  CHECK(r.exit_code == 0);
  return r.out;
}

// The sysfs directory of the block device that holds path ("" if none:
// tmpfs, an initramfs).
std::string BlockDeviceOf(const std::string& path) {
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  const std::string dev = "/sys/dev/block/" + std::to_string(major(st.st_dev)) + ":" + std::to_string(minor(st.st_dev));
  return fs::exists(dev) ? fs::canonical(dev).string() : "";
}

// A directory on a disk, removed with everything in it: under /var/tmp, or
// /mnt (the v2 guest's root is an initramfs, its disk is on /mnt).
class DiskDir {
 public:
  DiskDir() {
    for (std::string base : {"/var/tmp", "/mnt"}) {
      if (BlockDeviceOf(base).empty()) continue;
      std::string tmpl = base + "/prochook-blockstat-XXXXXX";
      REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
      path_ = tmpl;
      return;
    }
    FAIL("neither /var/tmp nor /mnt is on a block device");
  }
  ~DiskDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// The whole disk that holds path (blkio accounts a partition's I/O to its
// disk), by its sysfs name: "vda".
std::string DiskOf(const std::string& path) {
  const fs::path dev = BlockDeviceOf(path);
  REQUIRE(!dev.empty());
  return fs::exists(dev / "partition") ? dev.parent_path().filename() : dev.filename();
}

// KiB written to `disk` that the container's cgroup accounts: blkio's
// io_service_bytes (v1), io.stat's wbytes (v2).
uint64_t CgroupWrittenKiB(const Container& c, const std::string& disk) {
  std::string dev = ReadText("/sys/block/" + disk + "/dev");
  dev = dev.substr(0, dev.find('\n'));
  std::smatch m;
  if (UnifiedCgroups()) {
    const std::string stat = ReadText(c.CgroupDir("io") + "/io.stat");
    REQUIRE_MESSAGE(std::regex_search(stat, m, std::regex("(^|\\n)" + dev + " .*wbytes=([0-9]+)")), stat);
  } else {
    const std::string stat = ReadText(c.CgroupDir("blkio") + "/blkio.throttle.io_service_bytes_recursive");
    REQUIRE_MESSAGE(std::regex_search(stat, m, std::regex("(^|\\n)" + dev + " Write ([0-9]+)")), stat);
  }
  return std::stoull(m[2]) / 1024;
}

std::vector<uint64_t> Numbers(const std::string& text) {
  std::vector<uint64_t> out;
  std::istringstream in(text);
  for (uint64_t v; in >> v;) out.push_back(v);
  return out;
}

// The fields after the name of `disk`'s line in diskstats text.
std::vector<uint64_t> DiskstatsFields(const std::string& text, const std::string& disk) {
  std::smatch m;
  REQUIRE_MESSAGE(std::regex_search(text, m, std::regex("\\n?\\s*[0-9]+\\s+[0-9]+ " + disk + " ([0-9 ]+)")),
                  text);
  return Numbers(m[1]);
}

// A column of a tool's table: the value in `row_re`'s line under `column`
// of the last header line before it (one that starts with `header` and
// names `column`).
std::string Column(const std::string& table, const std::string& header, const std::string& row_re,
                   const std::string& column) {
  std::istringstream in(table);
  std::vector<std::string> names;
  for (std::string line; std::getline(in, line);) {
    std::istringstream words(line);
    std::vector<std::string> w{std::istream_iterator<std::string>(words), {}};
    if (w.empty()) continue;
    if (std::regex_search(w[0], std::regex("^" + header)) && std::find(w.begin(), w.end(), column) != w.end()) {
      names = w;
    } else if (!names.empty() && std::regex_match(w[0], std::regex(row_re))) {
      auto at = std::find(names.begin(), names.end(), column);
      REQUIRE_MESSAGE(at != names.end(), column << " not in the header of\n" << table);
      const size_t i = at - names.begin();
      REQUIRE_MESSAGE(i < w.size(), table);
      return w[i];
    }
  }
  FAIL("no " << row_re << " row under " << header << " in\n" << table);
  return "";
}

}  // namespace

TEST_CASE("blockstat: iostat, psutil and /proc/diskstats show the container's writes, not the host's") {
  if (SkipUnlessReady({"iostat", "dd"})) return;
  DiskDir data, host_data;
  const std::string disk = DiskOf(data.path());
  INFO("disk " << disk);
  Container c({.cpu_quota_us = 100000, .binds = {{"/data", data.path()}}});
  RunResult start = c.Start();
  REQUIRE_MESSAGE(start.exit_code == 0, "runc run: " << start.err);
  RequireServed(c);

  // Served: the disk's stat file is prochook's mount, and differs from the
  // host's (which counts all the host's I/O since boot).
  const std::string stat_path = "/sys/block/" + disk + "/stat";
  const std::string stat_file = fs::canonical(stat_path).string();
  const auto mounts = ServedMounts(c);
  INFO("prochook's mounts in the container:\n" << [&] { std::string s; for (auto& m : mounts) s += m + "\n"; return s; }());
  CHECK(std::find(mounts.begin(), mounts.end(), stat_file) != mounts.end());
  const std::string served = c.state_dir() + "/sys-block/" + disk;
  std::string mine;
  WaitFor(5s, [&] { return (mine = Out(c, {"cat", stat_path})) == ReadText(served); });
  CHECK(mine == ReadText(served));
  CHECK(Numbers(mine) != Numbers(ReadText(stat_path)));
  // Every path to it leads to the one file (read together: the container's
  // own reads of /usr move its counters between refreshes).
  std::string paths;
  INFO("both paths read together:\n" << paths);
  const std::string two = "cat /sys/class/block/" + disk + "/stat " + stat_path;
  CHECK(WaitFor(5s, [&] {
    paths = Out(c, {"sh", "-c", two});
    return paths.substr(0, paths.size() / 2) == paths.substr(paths.size() / 2);
  }));

  // The container writes 64 MiB while the host writes its own,
  // both direct (buffered writeback is charged to no container on v1).
  const std::vector<uint64_t> host_before = Numbers(ReadText(stat_path));
  // The host goes on writing until the container's writes and iostat end,
  // 200 MiB at least, over one 50 MiB file (the v2 guest's disk is small).
  std::atomic<bool> done = false;
  std::thread host([&] {
    for (uint64_t mib = 0; !done || mib < kHostMiB; mib += 50) {
      Run({"dd", "if=/dev/zero", "of=" + host_data.path() + "/f", "bs=1M", "count=50", "oflag=direct"});
    }
  });
  // iostat -x's interval reports meanwhile: never more than the container
  // could have written.
  RunResult io = c.Exec({"sh", "-c",
                         "(dd if=/dev/zero of=/data/f bs=1M count=64 oflag=direct 2>/tmp/dd.err; echo $? >/tmp/dd.rc) & "
                         "iostat -d -x -k -y " + disk + " 1 3; wait"});
  done = true;
  host.join();
  const std::vector<uint64_t> host_after = Numbers(ReadText(stat_path));
  INFO("iostat -x during the writes:\n" << io.out << io.err);
  REQUIRE(io.exit_code == 0);
  REQUIRE_MESSAGE(Out(c, {"cat", "/tmp/dd.rc"}) == "0\n", "the container's dd: " << Out(c, {"cat", "/tmp/dd.err"}));
  REQUIRE(host_after.size() >= 7);
  // The host did write its own (sectors written, field 7).
  REQUIRE((host_after[6] - host_before[6]) / 2 >= kHostMiB * 1024);
  double wkb = 0;
  for (size_t pos = 0; (pos = io.out.find("Device", pos)) != std::string::npos; ++pos) {
    wkb += std::stod(Column(io.out.substr(pos), "Device", disk, "wkB/s"));
  }
  CHECK(wkb <= kContainerKiB * 1.05);

  // iostat -d -k since "boot": what the kernel accounted to the container,
  // once a refresh has shown it (one may lag under load or emulation).
  const uint64_t accounted = CgroupWrittenKiB(c, disk);
  std::string iostat;
  uint64_t written = 0;
  WaitFor(20s, [&] {
    iostat = Out(c, {"iostat", "-d", "-k", disk});
    written = std::stoull(Column(iostat, "Device", disk, "kB_wrtn"));
    return written == accounted;
  });
  INFO("iostat -d -k:\n" << iostat);
  CHECK(written == accounted);
  MESSAGE("iostat in the container: kB_wrtn " << written << ", wkB/s summed over 3 s of writes " << wkb
                                              << "; the host wrote " << (host_after[6] - host_before[6]) / 2
                                              << " kB meanwhile");
  CHECK(written >= kContainerKiB);
  CHECK(written < kContainerKiB + 4096);
  // iostat -x since boot: its average write rate times the uptime it
  // divides by (the host's, prochook's default) is that too.
  const std::string iostat_x = Out(c, {"sh", "-c", "cat /proc/uptime; iostat -x -k " + disk});
  INFO("iostat -x:\n" << iostat_x);
  const double uptime = std::stod(iostat_x);
  CHECK(std::abs(std::stod(Column(iostat_x, "Device", disk, "wkB/s")) * uptime - written) < 0.01 * written + uptime * 0.01);

  // /proc/diskstats and the stat file: one snapshot, the same counters
  // (read together; a refresh between the two reads is retried).
  std::vector<uint64_t> from_diskstats, from_sys;
  WaitFor(5s, [&] {
    const std::string both = Out(c, {"sh", "-c", "cat " + stat_path + "; echo; cat /proc/diskstats"});
    from_sys = Numbers(both.substr(0, both.find("\n\n")));
    from_diskstats = DiskstatsFields(both.substr(both.find("\n\n")), disk);
    return from_sys == from_diskstats;
  });
  CHECK(from_sys == from_diskstats);
  REQUIRE(from_sys.size() >= 7);
  CHECK(from_sys[6] / 2 == written);

  // psutil (from /proc/diskstats) agrees with iostat.
  RunResult py = c.Exec({"/usr/bin/python3", "-c",
                         "import psutil; print(psutil.disk_io_counters(perdisk=True)['" + disk + "'].write_bytes)"});
  if (py.err.find("No module named 'psutil'") == std::string::npos) {
    INFO("python3: " << py.err);
    REQUIRE(py.exit_code == 0);
    CHECK(std::stoull(py.out) == written * 1024);
  }
}

TEST_CASE("blockstat: sar -r's %commit in an idle container is the container's, below 100%") {
  // sar is an alternatives link (/etc/alternatives is not in the rootfs).
  if (SkipUnlessReady({"sar.sysstat"})) return;
  Container c({.cpu_quota_us = 100000});
  RunResult start = c.Start();
  REQUIRE_MESSAGE(start.exit_code == 0, "runc run: " << start.err);
  RequireServed(c);
  const auto host = MeminfoFields(ReadText("/proc/meminfo"));
  const auto mine = MeminfoFields(Out(c, {"cat", "/proc/meminfo"}));
  CHECK(mine.at("MemTotal") == 262144);
  CHECK(mine.at("CommitLimit") < host.at("CommitLimit"));
  CHECK(mine.at("Committed_AS") <= mine.at("MemTotal"));
  const std::string sar = Out(c, {"sar.sysstat", "-r", "1", "1"});
  INFO("sar -r:\n" << sar);
  const double commit = std::stod(Column(sar, "[0-9:]+", "Average:", "%commit"));
  MESSAGE("sar -r %commit " << commit << ", Committed_AS " << mine.at("Committed_AS") << " kB (host "
                             << host.at("Committed_AS") << "), CommitLimit " << mine.at("CommitLimit") << " kB");
  CHECK(commit < 100.0);
  CHECK(commit >= 0.0);
}
