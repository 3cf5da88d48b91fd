// /proc/vmstat as vmstat, sar -B and sar -W read it inside a real runc
// container (256 MiB, one CPU) that writes 64 MiB with O_DIRECT while the
// host writes 200 MiB of its own: the container's tools see its writes and
// none of the host's.
#include <doctest/doctest.h>

#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include "tests/e2e/harness.h"

namespace fs = std::filesystem;
using namespace prochook::e2e;
using namespace std::chrono_literals;

namespace {

std::map<std::string, uint64_t> Vmstat(const std::string& text) {
  std::map<std::string, uint64_t> out;
  std::istringstream in(text);
  std::string key;
  for (uint64_t v; in >> key >> v;) out[key] = v;
  return out;
}

std::vector<std::string> Words(const std::string& line) {
  std::istringstream in(line);
  std::vector<std::string> out;
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

// The rows of `vmstat N M` as column name -> value (its second header line
// names the columns).
std::vector<std::map<std::string, double>> VmstatRows(const std::string& out) {
  std::istringstream in(out);
  std::vector<std::string> header;
  std::vector<std::map<std::string, double>> rows;
  for (std::string line; std::getline(in, line);) {
    auto w = Words(line);
    if (w.empty() || w[0] == "procs") continue;
    if (w[0] == "r") {
      header = w;
    } else if (!header.empty() && w.size() == header.size()) {
      std::map<std::string, double> row;
      for (size_t i = 0; i < w.size(); ++i) row[header[i]] = std::stod(w[i]);
      rows.push_back(row);
    }
  }
  return rows;
}

// sar's "Average:" line as column name -> value; first_column names the
// header's first figure (what precedes it is the time, maybe AM/PM).
std::map<std::string, double> SarAverage(const std::string& out, const std::string& first_column) {
  std::istringstream in(out);
  std::vector<std::string> names;
  std::map<std::string, double> avg;
  for (std::string line; std::getline(in, line);) {
    auto w = Words(line);
    auto first = std::find(w.begin(), w.end(), first_column);
    if (first != w.end()) names.assign(first, w.end());
    if (!w.empty() && w[0] == "Average:" && w.size() == names.size() + 1) {
      for (size_t i = 0; i < names.size(); ++i) avg[names[i]] = std::stod(w[i + 1]);
    }
  }
  return avg;
}

// sar's binary: Debian's /usr/bin/sar is an alternatives link through
// /etc, which the container's rootfs does not have.
std::string Sar() {
  std::error_code ec;
  fs::path p = fs::canonical("/usr/bin/sar", ec);
  return ec ? "/usr/bin/sar.sysstat" : p.string();
}

// A directory on a disk (not tmpfs: O_DIRECT needs a block device under
// it), removed on scope exit.
struct DiskDir {
  DiskDir() {
    fs::create_directories("/var/lib");
    char tmpl[] = "/var/lib/prochook-e2e-vmstat-XXXXXX";
    REQUIRE(::mkdtemp(tmpl) != nullptr);
    path = tmpl;
  }
  ~DiskDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  std::string path;
};

// v1 blkio counts a cgroup's bytes only once blk-throttle is set up on the
// disk, and since Linux 6.10 (commit a3166c51702b) that happens when a first throttle limit is set
// on it (blk_throtl_init from tg_set_conf; until then blkio.throttle.*
// read "Total 0" for every cgroup). A limit set and removed at once leaves
// it set up, limiting nothing. v2's io.stat counts regardless.
void EnableV1Accounting(const Container& c, const std::string& dir) {
  if (UnifiedCgroups()) return;
  struct stat st {};
  REQUIRE(::stat(dir.c_str(), &st) == 0);
  std::string dev = std::to_string(major(st.st_dev)) + ":" + std::to_string(minor(st.st_dev));
  // Limits are per disk: a partition's disk is its sysfs parent.
  const std::string sys = "/sys/dev/block/" + dev;
  if (fs::exists(sys + "/partition")) dev = ReadText(fs::canonical(sys).parent_path().string() + "/dev");
  while (!dev.empty() && dev.back() == '\n') dev.pop_back();
  const std::string file = c.CgroupDir("blkio") + "/blkio.throttle.write_bps_device";
  for (const std::string& rule : {dev + " 1099511627776", dev + " 0"}) {
    std::ofstream(file) << rule << "\n";
  }
}

// The container's /proc/vmstat as a reader that just woke the renderer sees
// it one interval later.
std::map<std::string, uint64_t> FreshVmstat(const Container& c) {
  REQUIRE(c.Exec({"cat", "/proc/vmstat"}).exit_code == 0);
  std::this_thread::sleep_for(1500ms);
  RunResult r = c.Exec({"cat", "/proc/vmstat"});
  REQUIRE(r.exit_code == 0);
  return Vmstat(r.out);
}

}  // namespace

TEST_CASE("vmstat: vmstat 1 3, sar -B and sar -W show the container's 64 MiB of direct writes, not the host's 200 MiB") {
  if (SkipUnlessReady({"vmstat", "sar", "dd"})) return;
  DiskDir data;
  Container c({.cpu_quota_us = 100000, .binds = {{"/data", data.path}}});
  RunResult start = c.Start();
  REQUIRE_MESSAGE(start.exit_code == 0, "runc run: " << start.err);
  RequireServed(c);
  EnableV1Accounting(c, data.path);

  // Served: the state directory's file, not the kernel's.
  struct stat st {};
  REQUIRE(::stat((c.state_dir() + "/vmstat").c_str(), &st) == 0);
  CHECK(c.Exec({"stat", "-c", "%d:%i", "/proc/vmstat"}).out ==
        std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino) + "\n");
  const auto before = FreshVmstat(c);
  const auto host_before = Vmstat(ReadText("/proc/vmstat"));
  CHECK(before.size() == host_before.size());
  CHECK(before.at("pgpgout") < host_before.at("pgpgout"));
  CHECK(before.at("pgfault") < host_before.at("pgfault"));

  // Both writers run for about 4 s (longer in an emulated guest), in 1 MiB
  // (container) and 5 MiB (host) direct writes; the tools start 1.2 s in,
  // so every interval they measure lies within both writers' runs. They
  // overwrite the same few MiB: every write still goes to the disk, and a
  // small disk (the VM lane's root disk) does not fill up.
  std::thread container_writer([&] {
    RunResult r = c.Exec({"sh", "-c",
                          "i=0; while [ $i -lt 64 ]; do dd if=/dev/zero of=/data/ct.bin bs=1M count=1 seek=$((i%4)) "
                          "oflag=direct conv=notrunc status=none || exit 1; sleep 0.05; i=$((i+1)); done"});
    CHECK_MESSAGE(r.exit_code == 0, "the container's writes: " << r.err);
  });
  std::thread host_writer([&] {
    RunResult r = Run({"sh", "-c",
                       "i=0; while [ $i -lt 40 ]; do dd if=/dev/zero of=" + data.path +
                           "/host.bin bs=1M count=5 seek=$((i%4*5)) oflag=direct conv=notrunc status=none || exit 1; "
                           "sleep 0.1; i=$((i+1)); done"});
    CHECK_MESSAGE(r.exit_code == 0, "the host's writes: " << r.err);
  });
  std::this_thread::sleep_for(1200ms);
  RunResult vmstat, sar_b, sar_w;
  std::thread t1([&] { vmstat = c.Exec({"vmstat", "1", "3"}); });
  std::thread t2([&] { sar_b = c.Exec({"env", "LC_ALL=C", Sar(), "-B", "1", "1"}); });
  std::thread t3([&] { sar_w = c.Exec({"env", "LC_ALL=C", Sar(), "-W", "1", "1"}); });
  for (std::thread* t : {&t1, &t2, &t3, &container_writer, &host_writer}) t->join();
  const auto after = FreshVmstat(c);
  const auto host_after = Vmstat(ReadText("/proc/vmstat"));

  // The whole run: the container's 64 MiB (65536 KiB; a little more for
  // what the filesystem writes on its behalf), while the host's counter
  // moved by both writers' 264 MiB at least.
  const uint64_t mine = after.at("pgpgout") - before.at("pgpgout");
  const uint64_t host = host_after.at("pgpgout") - host_before.at("pgpgout");
  MESSAGE("container pgpgout +" << mine << " KiB, host +" << host << " KiB\n"
          << vmstat.out << sar_b.out << sar_w.out);
  CHECK(mine >= 65536);
  CHECK(mine <= 65536 + 8192);
  CHECK(host >= 264 * 1024);

  // vmstat: two one-second samples after the since-boot line, each within
  // the container's writes; at most its 64 MiB, nothing like the host's.
  INFO("vmstat 1 3:\n" << vmstat.out << vmstat.err);
  REQUIRE(vmstat.exit_code == 0);
  auto rows = VmstatRows(vmstat.out);
  REQUIRE(rows.size() == 3);
  for (size_t i = 1; i < rows.size(); ++i) {
    CAPTURE(i);
    CHECK(rows[i].at("bo") > 0);
    CHECK(rows[i].at("bo") <= 65536 + 8192);
    CHECK(rows[i].at("si") == 0);
    CHECK(rows[i].at("so") == 0);
  }

  INFO("sar -B 1 1:\n" << sar_b.out << sar_b.err);
  REQUIRE(sar_b.exit_code == 0);
  auto paging = SarAverage(sar_b.out, "pgpgin/s");
  REQUIRE(paging.count("pgpgout/s") == 1);
  CHECK(paging.at("pgpgout/s") > 0);
  CHECK(paging.at("pgpgout/s") <= 65536 + 8192);
  // The host's own reclaim and page freeing are not the container's.
  CHECK(paging.at("pgfree/s") == 0);
  CHECK(paging.at("pgscank/s") == 0);

  INFO("sar -W 1 1:\n" << sar_w.out << sar_w.err);
  REQUIRE(sar_w.exit_code == 0);
  auto swapping = SarAverage(sar_w.out, "pswpin/s");
  REQUIRE(swapping.count("pswpout/s") == 1);
  CHECK(swapping.at("pswpin/s") == 0);
  CHECK(swapping.at("pswpout/s") == 0);
}

TEST_CASE("vmstat: io.prochook.files without vmstat leaves the kernel's /proc/vmstat") {
  if (SkipUnlessReady()) return;
  Container c({.annotations = {{"io.prochook.files", "meminfo,stat"}}});
  RunResult start = c.Start();
  REQUIRE_MESSAGE(start.exit_code == 0, "runc run: " << start.err);
  RequireServed(c);
  auto mounts = ServedMounts(c);
  CHECK(std::count(mounts.begin(), mounts.end(), "/proc/vmstat") == 0);
  CHECK_FALSE(fs::exists(c.state_dir() + "/vmstat"));
  // procfs: the host's counters, which only grow.
  const uint64_t host_faults = Vmstat(ReadText("/proc/vmstat")).at("pgfault");
  CHECK(Vmstat(c.Exec({"cat", "/proc/vmstat"}).out).at("pgfault") >= host_faults);
}
