// Where the renderer's inputs come from. Reading a pseudo file (procfs,
// sysfs, cgroupfs) costs an open, two reads and a close; a refresh reads
// some thirty of them, and on a virtual machine each system call is dear.
// KeptOpenReader keeps every file it has opened and reads it again from
// offset 0, where the kernel regenerates its content: half the calls.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <unordered_map>

#include "common/fd.h"
#include "common/result.h"

namespace prochook {

class FileReader {
 public:
  virtual ~FileReader() = default;
  // The whole file; fails past max_bytes.
  virtual Result<std::string> Read(const std::string& path, size_t max_bytes = 1 << 20) = 0;
};

// Opens, reads and closes each time (ReadFile).
class OpenEachTime final : public FileReader {
 public:
  Result<std::string> Read(const std::string& path, size_t max_bytes = 1 << 20) override;
};
// A shared OpenEachTime, the default of the cgroup readers.
FileReader& OpenEachTimeReader();

// Keeps files open and re-reads them with pread from offset 0. Only for
// files that are never replaced by another inode and that the kernel
// regenerates at offset 0: procfs, sysfs, cgroupfs, but never a v1 task
// list (tasks, cgroup.procs), which stays the list of the first read.
// A file that did not exist in an existing directory is remembered as
// absent for absent_ms, then looked for again: a cgroup v2 directory grows
// a controller's interface files when the parent enables it (an
// administrator's `+memory`, systemd enabling controllers as units need
// them), and v1 cgroups may gain files too. A file whose read fails (its
// cgroup removed, its controller disabled) is closed and opened again on
// the next read, and so is a file whose directory is missing (the cgroup
// may be made again). At most max_files are kept; beyond that, files are
// opened each time.
class KeptOpenReader final : public FileReader {
 public:
  explicit KeptOpenReader(size_t max_files = 128, int64_t absent_ms = 5000)
      : max_files_(max_files), absent_ms_(absent_ms) {}
  Result<std::string> Read(const std::string& path, size_t max_bytes = 1 << 20) override;
  size_t open_files() const;

 private:
  struct Entry {
    UniqueFd fd;  // invalid: the file did not exist
    // A sysfs or cgroupfs file: the kernel renders it as one record, so a
    // read shorter than asked is the whole file (no read to see EOF).
    bool one_record = false;
    int64_t absent_since_ms = 0;  // when the open found no file
  };
  size_t max_files_;
  int64_t absent_ms_;
  std::unordered_map<std::string, Entry> files_;
};

}  // namespace prochook
