// The tear-free store is every served container's single point of failure:
// nothing that fills a filesystem may turn their reads into errors or
// freeze their files. Real runc containers on a store of the test's own (a
// run directory whose image sits on a small tmpfs the test fills).
#include <doctest/doctest.h>

#include <linux/magic.h>
#include <sys/mount.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <thread>

#include "tests/e2e/harness.h"
#include "tests/testing.h"

namespace fs = std::filesystem;
using namespace prochook::e2e;
using namespace std::chrono_literals;

namespace {

constexpr uint64_t kMiB = 1ull << 20;

// A tmpfs of `size` mounted on a temporary directory, with a run directory
// in it whose store image (<run dir>.img) the tmpfs holds. Unmounted, with
// the store, also when the test fails.
class SmallFilesystem {
 public:
  explicit SmallFilesystem(uint64_t size) {
    char tmpl[] = "/tmp/prochook-store-XXXXXX";
    REQUIRE(::mkdtemp(tmpl) != nullptr);
    base_ = tmpl;
    const std::string opts = "size=" + std::to_string(size) + ",mode=0700";
    REQUIRE_MESSAGE(::mount("tmpfs", base_.c_str(), "tmpfs", 0, opts.c_str()) == 0, strerror(errno));
  }
  ~SmallFilesystem() {
    Run({ProchookBinary(), "uninstall", "--engines", "", "--run-dir", run_dir()});
    ::umount2(run_dir().c_str(), MNT_DETACH);  // if uninstall could not
    ::umount2(base_.c_str(), MNT_DETACH);
    ::rmdir(base_.c_str());
  }
  std::string run_dir() const { return base_ + "/run"; }
  const std::string& path() const { return base_; }

 private:
  std::string base_;
};

// Writes zeros to path until the filesystem refuses (ENOSPC), in ever
// smaller pieces down to one byte: the filesystem is then full to its last
// block. Returns the bytes written.
uint64_t FillUp(const std::string& path) {
  FILE* f = ::fopen(path.c_str(), "we");
  REQUIRE(f != nullptr);
  ::setvbuf(f, nullptr, _IONBF, 0);
  std::vector<char> zeros(kMiB, 0);
  uint64_t written = 0;
  for (size_t chunk = kMiB; chunk >= 1; chunk /= 2) {
    while (::fwrite(zeros.data(), 1, chunk, f) == chunk) written += chunk;
    ::clearerr(f);
  }
  ::fclose(f);
  return written;
}

// No container's state directory is left in the run directory.
bool ServesNothing(const std::string& run_dir) {
  for (const auto& e : fs::directory_iterator(run_dir)) {
    if (e.is_directory()) return false;
  }
  return true;
}

bool IsXfs(const std::string& path) {
  struct statfs st;
  return ::statfs(path.c_str(), &st) == 0 && st.f_type == XFS_SUPER_MAGIC;
}

// Seconds since boot, the clock of the kernel log's timestamps.
double Uptime() { return std::stod(ReadText("/proc/uptime")); }

// The kernel log's lines about `device` (e.g. "loop3") since `since`
// seconds after boot that report a failed write. Writeback to a store
// whose image cannot get blocks fails silently for readers at first (the
// page cache still serves them) and is where losing a store starts.
std::string WriteErrorsSince(double since, const std::string& device) {
  std::istringstream log(Run({"dmesg"}).out);
  std::string found;
  for (std::string line; std::getline(log, line);) {
    if (line.size() < 3 || line[0] != '[') continue;
    const double at = std::stod(line.substr(1));
    const bool about = line.find(device + ":") != std::string::npos || line.find("(" + device + ")") != std::string::npos;
    if (at >= since && about && line.find("rror") != std::string::npos) found += line + "\n";
    if (at >= since && about && line.find("Failing") != std::string::npos) found += line + "\n";
  }
  return found;
}

// The loop device ("loop3") behind an image, "" if none.
std::string LoopDeviceOf(const std::string& image) {
  const std::string out = Run({"losetup", "-j", image}).out;  // "/dev/loop3: []: (...)"
  const size_t colon = out.find(':');
  if (out.rfind("/dev/", 0) != 0 || colon == std::string::npos) return "";
  return out.substr(5, colon - 5);
}

Container::Options ServedFrom(const std::string& run_dir, uint64_t memory_limit) {
  Container::Options o;
  o.memory_limit = memory_limit;
  o.hook_command = {ProchookBinary(), "prochook", "hook", "--run-dir", run_dir};
  return o;
}

// MemTotal (kB) and the aggregate "cpu " line of /proc/stat in the
// container, or fails the test if either read fails.
struct Reading {
  uint64_t mem_total = 0;
  std::string cpu_line;
};

Reading Read(const Container& c) {
  RunResult r = c.Exec({"sh", "-c", "cat /proc/meminfo && cat /proc/stat"});
  INFO("container " << c.id() << ": " << r.err);
  REQUIRE(r.exit_code == 0);
  Reading out;
  out.mem_total = MeminfoFields(r.out)["MemTotal"];
  std::istringstream lines(r.out);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("cpu ", 0) == 0) out.cpu_line = line;
  }
  REQUIRE_FALSE(out.cpu_line.empty());
  return out;
}

}  // namespace

TEST_CASE("store: the filesystem holding the image filled to its last block; 20 served containers keep reading current files, and a new one is still served") {
  if (SkipUnlessReady({"mkfs.xfs"})) return;
  // The image (300 MiB) and 40 MiB more for the filler.
  SmallFilesystem small(340 * kMiB);
  const double t0 = Uptime();
  std::vector<std::unique_ptr<Container>> containers;
  for (int i = 0; i < 20; ++i) {
    containers.push_back(std::make_unique<Container>(ServedFrom(small.run_dir(), (64 + i) * kMiB)));
    RunResult start = containers.back()->Start();
    REQUIRE_MESSAGE(start.exit_code == 0, "runc run: " << start.err);
  }
  REQUIRE(IsXfs(small.run_dir()));
  REQUIRE(fs::exists(small.run_dir() + ".img"));
  // Served: each sees its own limit (the host's MemTotal is far larger).
  std::vector<Reading> before;
  for (int i = 0; i < 20; ++i) {
    before.push_back(Read(*containers[i]));
    CHECK(before.back().mem_total == (64 + i) * 1024);
  }

  const uint64_t filled = FillUp(small.path() + "/filler");
  struct statvfs sv;
  REQUIRE(::statvfs(small.path().c_str(), &sv) == 0);
  MESSAGE("filled " << (filled >> 20) << " MiB; " << sv.f_bavail << " blocks left");
  REQUIRE(sv.f_bavail == 0);

  // Reads keep working, and the files keep refreshing: the idle ticks of
  // the "cpu" line grow with time. Read for longer than the kernel's
  // writeback delay would take to hit a hole in a sparse image.
  for (int round = 0; round < 3; ++round) {
    std::this_thread::sleep_for(2s);
    for (int i = 0; i < 20; ++i) {
      const Reading now = Read(*containers[i]);
      CHECK(now.mem_total == (64 + i) * 1024);
      if (round == 2) CHECK_MESSAGE(now.cpu_line != before[i].cpu_line, "container " << i << " stat froze");
    }
  }
  ::sync();  // push every dirty page of the store to the full filesystem
  for (int i = 0; i < 20; ++i) CHECK(Read(*containers[i]).mem_total == (64 + i) * 1024);

  // The store itself has room: a new container is served as usual. Its
  // files take blocks of the store no container used before, which a
  // sparse image would first have to get from the full filesystem.
  Container late(ServedFrom(small.run_dir(), 100 * kMiB));
  REQUIRE(late.Start().exit_code == 0);
  CHECK(Read(late).mem_total == 100 * 1024);
  ::sync();
  std::this_thread::sleep_for(2s);
  CHECK(Read(late).mem_total == 100 * 1024);
  for (int i = 0; i < 20; ++i) CHECK(Read(*containers[i]).mem_total == (64 + i) * 1024);
  // And no write of the store failed underneath.
  const std::string device = LoopDeviceOf(small.run_dir() + ".img");
  REQUIRE_FALSE(device.empty());
  CHECK_MESSAGE(WriteErrorsSince(t0, device).empty(), WriteErrorsSince(t0, device));

  for (auto& c : containers) c->Stop();
  late.Stop();
  // Every renderer removes its own state: the store empties.
  CHECK(WaitFor(10s, [&] { return ServesNothing(small.run_dir()); }));
}

TEST_CASE("store: a store with less than its reserve free turns new containers away unserved, while those it serves keep refreshing") {
  if (SkipUnlessReady({"mkfs.xfs"})) return;
  SmallFilesystem small(340 * kMiB);
  Container old(ServedFrom(small.run_dir(), 128 * kMiB));
  REQUIRE(old.Start().exit_code == 0);
  const Reading first = Read(old);
  REQUIRE(first.mem_total == 128 * 1024);

  // Fill the store itself (a file, not a container's directory).
  FillUp(small.run_dir() + "/filler");
  Container late(ServedFrom(small.run_dir(), 100 * kMiB));
  REQUIRE(late.Start().exit_code == 0);  // fail-open: it starts, unserved
  const uint64_t host_total = MeminfoFields(ReadText("/proc/meminfo")).at("MemTotal");
  CHECK(Read(late).mem_total == host_total);
  const std::string log = ReadText(small.run_dir() + "/hook.log");
  CHECK(log.find("kept for the containers it serves") != std::string::npos);

  std::this_thread::sleep_for(2s);
  const Reading later = Read(old);
  CHECK(later.mem_total == 128 * 1024);
  std::this_thread::sleep_for(2s);
  CHECK(Read(old).cpu_line != later.cpu_line);
  fs::remove(small.run_dir() + "/filler");
}

TEST_CASE("store: uninstall removes an unused store (unmounts it, deletes its image) and keeps one still serving") {
  if (SkipUnlessReady({"mkfs.xfs"})) return;
  SmallFilesystem small(340 * kMiB);
  {
    Container c(ServedFrom(small.run_dir(), 128 * kMiB));
    REQUIRE(c.Start().exit_code == 0);
    REQUIRE(IsXfs(small.run_dir()));
    RunResult kept = Run({ProchookBinary(), "uninstall", "--engines", "", "--run-dir", small.run_dir()});
    CHECK(kept.exit_code != 0);
    CHECK(kept.out.find("containers are still served") != std::string::npos);
    CHECK(IsXfs(small.run_dir()));
    CHECK(Read(c).mem_total == 128 * 1024);
    c.Stop();
    CHECK(WaitFor(10s, [&] { return ServesNothing(small.run_dir()); }));
  }
  RunResult removed = Run({ProchookBinary(), "uninstall", "--engines", "", "--run-dir", small.run_dir()});
  INFO(removed.out << removed.err);
  CHECK(removed.exit_code == 0);
  CHECK_FALSE(IsXfs(small.run_dir()));
  CHECK_FALSE(fs::exists(small.run_dir() + ".img"));
  // The loop device went with the mount (mount -o loop marks it autoclear).
  CHECK(Run({"losetup", "-j", small.run_dir() + ".img"}).out.empty());
}
