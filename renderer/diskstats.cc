#include "renderer/diskstats.h"

#include <cstdio>
#include <initializer_list>
#include <map>
#include <utility>

#include "common/io.h"
#include "common/text.h"

namespace prochook {
namespace {

using DevKey = std::pair<uint32_t, uint32_t>;

std::optional<DevKey> ParseDevice(std::string_view s) {
  auto parts = Split(s, ':');
  if (parts.size() != 2) return std::nullopt;
  auto major = ParseU64(parts[0]);
  auto minor = ParseU64(parts[1]);
  if (!major || !minor || *major > UINT32_MAX || *minor > UINT32_MAX) return std::nullopt;
  return DevKey(static_cast<uint32_t>(*major), static_cast<uint32_t>(*minor));
}

// The first of files in dir that can be read.
std::optional<std::string> ReadFirst(const std::string& dir, std::initializer_list<const char*> files,
                                     FileReader& reader) {
  for (const char* f : files) {
    if (auto text = reader.Read(dir + "/" + f)) return std::move(*text);
  }
  return std::nullopt;
}

IoDeviceStat& At(std::map<DevKey, IoDeviceStat>& devs, uint32_t major, uint32_t minor) {
  IoDeviceStat& d = devs[{major, minor}];
  d.major = major;
  d.minor = minor;
  return d;
}

uint64_t& Pick(RwOp op, uint64_t& read, uint64_t& write, uint64_t& discard) {
  return op == RwOp::kRead ? read : op == RwOp::kWrite ? write : discard;
}

Result<std::vector<IoDeviceStat>> ReadV1(const std::string& dir, FileReader& reader) {
  // The _recursive files (Linux 4.17+) include descendant cgroups, as the
  // container's own sub-cgroups should count.
  auto ios = ReadFirst(dir, {"blkio.throttle.io_serviced_recursive", "blkio.throttle.io_serviced"}, reader);
  auto bytes = ReadFirst(dir, {"blkio.throttle.io_service_bytes_recursive", "blkio.throttle.io_service_bytes"}, reader);
  if (!ios && !bytes) return Error::Msg("no blkio.throttle counters in " + dir);
  std::map<DevKey, IoDeviceStat> devs;
  for (const RwStatLine& l : ParseRwStat(ios ? *ios : "")) {
    IoDeviceStat& d = At(devs, l.major, l.minor);
    Pick(l.op, d.read_ios, d.write_ios, d.discard_ios) = l.value;
  }
  for (const RwStatLine& l : ParseRwStat(bytes ? *bytes : "")) {
    IoDeviceStat& d = At(devs, l.major, l.minor);
    Pick(l.op, d.read_bytes, d.write_bytes, d.discard_bytes) = l.value;
  }
  // CFQ (gone since 5.0) and BFQ with CONFIG_BFQ_CGROUP_DEBUG only; ns.
  if (auto t = ReadFirst(dir, {"blkio.io_service_time_recursive",
                               "blkio.bfq.io_service_time_recursive"}, reader)) {
    for (const RwStatLine& l : ParseRwStat(*t)) {
      IoDeviceStat& d = At(devs, l.major, l.minor);
      if (l.op == RwOp::kRead) d.read_ms = l.value / 1'000'000;
      if (l.op == RwOp::kWrite) d.write_ms = l.value / 1'000'000;
    }
  }
  if (auto m = ReadFirst(dir, {"blkio.io_merged_recursive", "blkio.bfq.io_merged_recursive"}, reader)) {
    for (const RwStatLine& l : ParseRwStat(*m)) {
      IoDeviceStat& d = At(devs, l.major, l.minor);
      if (l.op == RwOp::kRead) d.read_merged = l.value;
      if (l.op == RwOp::kWrite) d.write_merged = l.value;
    }
  }
  std::vector<IoDeviceStat> out;
  for (auto& [key, d] : devs) out.push_back(std::move(d));
  return out;
}

}  // namespace

std::vector<RwStatLine> ParseRwStat(std::string_view text) {
  std::vector<RwStatLine> out;
  for (std::string_view line : SplitLines(text)) {
    auto f = SplitFields(line);
    // Sync/Async split the same I/Os again and Total sums them: skipped.
    if (f.size() != 3) continue;
    RwOp op;
    if (f[1] == "Read") {
      op = RwOp::kRead;
    } else if (f[1] == "Write") {
      op = RwOp::kWrite;
    } else if (f[1] == "Discard") {
      op = RwOp::kDiscard;
    } else {
      continue;
    }
    auto dev = ParseDevice(f[0]);
    auto v = ParseU64(f[2]);
    if (dev && v) out.push_back({dev->first, dev->second, op, *v});
  }
  return out;
}

std::vector<IoDeviceStat> ParseIoStat(std::string_view text) {
  std::vector<IoDeviceStat> out;
  for (std::string_view line : SplitLines(text)) {
    auto f = SplitFields(line);
    if (f.empty()) continue;
    auto dev = ParseDevice(f[0]);
    if (!dev) continue;
    IoDeviceStat d;
    d.major = dev->first;
    d.minor = dev->second;
    for (size_t i = 1; i < f.size(); ++i) {
      size_t eq = f[i].find('=');
      if (eq == std::string_view::npos) continue;
      auto v = ParseU64(f[i].substr(eq + 1));
      if (!v) continue;
      std::string_view key = f[i].substr(0, eq);
      if (key == "rbytes") d.read_bytes = *v;
      if (key == "wbytes") d.write_bytes = *v;
      if (key == "rios") d.read_ios = *v;
      if (key == "wios") d.write_ios = *v;
      if (key == "dbytes") d.discard_bytes = *v;
      if (key == "dios") d.discard_ios = *v;
    }
    out.push_back(d);
  }
  return out;
}

Result<std::vector<IoDeviceStat>> ReadIoStats(const CgroupDir& cg, FileReader& reader) {
  if (cg.version == 1) {
    TRY_ASSIGN(auto stats, ReadV1(cg.dir, reader), "blkio cgroup " + cg.dir);
    return stats;
  }
  if (cg.version != 2) return Error::Msg("no io cgroup");
  // io.stat is hierarchical (blkcg_rstat_flush sums descendants).
  TRY_ASSIGN(std::string text, reader.Read(cg.dir + "/io.stat"), "io cgroup " + cg.dir);
  std::vector<IoDeviceStat> stats = ParseIoStat(text);
  std::map<DevKey, IoDeviceStat> sorted;
  for (IoDeviceStat& d : stats) sorted[{d.major, d.minor}] = std::move(d);
  stats.clear();
  for (auto& [key, d] : sorted) stats.push_back(std::move(d));
  return stats;
}

std::vector<DiskCounters> ComputeDiskCounters(std::string_view host_diskstats,
                                              const std::vector<IoDeviceStat>& stats) {
  std::map<DevKey, const IoDeviceStat*> by_dev;
  for (const IoDeviceStat& d : stats) by_dev[{d.major, d.minor}] = &d;
  std::vector<DiskCounters> out;
  for (std::string_view line : SplitLines(host_diskstats)) {
    auto f = SplitFields(line);
    if (f.size() < 3) continue;
    auto major = ParseU64(f[0]);
    auto minor = ParseU64(f[1]);
    if (!major || !minor || *major > UINT32_MAX || *minor > UINT32_MAX) continue;
    DiskCounters disk;
    disk.major = static_cast<uint32_t>(*major);
    disk.minor = static_cast<uint32_t>(*minor);
    disk.name = std::string(f[2]);
    disk.host_fields = f.size() - 3;
    auto it = by_dev.find({disk.major, disk.minor});
    // Every host device is listed, at zero until the container uses it:
    // block devices are visible in the container (/sys/block), and a
    // device appearing on first I/O would look like a hotplug to monitors.
    static const IoDeviceStat kIdle;
    const IoDeviceStat& d = it == by_dev.end() ? kIdle : *it->second;
    // The ms fields are (unsigned int) in the kernel: they wrap there too.
    const auto read_ms = static_cast<uint32_t>(d.read_ms.value_or(0));
    const auto write_ms = static_cast<uint32_t>(d.write_ms.value_or(0));
    const uint32_t busy_ms = read_ms + write_ms;
    disk.fields = {d.read_ios, d.read_merged.value_or(0), d.read_bytes / 512, read_ms,
                   d.write_ios, d.write_merged.value_or(0), d.write_bytes / 512, write_ms,
                   0,                 // in flight
                   busy_ms, busy_ms,  // io_ticks and time in queue: service time
                   d.discard_ios, 0, d.discard_bytes / 512, 0,  // discard merges, ms
                   0, 0};                                       // flushes, ms
    out.push_back(std::move(disk));
  }
  return out;
}

std::string RenderDiskstats(const std::vector<DiskCounters>& disks) {
  std::string out;
  for (const DiskCounters& d : disks) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%4u %7u ", d.major, d.minor);
    out += buf;
    out += d.name;
    for (uint64_t v : d.fields) {
      out += ' ';
      out += std::to_string(v);
    }
    out += '\n';
  }
  return out;
}

std::string RenderDiskstats(std::string_view host_diskstats,
                            const std::vector<IoDeviceStat>& stats) {
  return RenderDiskstats(ComputeDiskCounters(host_diskstats, stats));
}

}  // namespace prochook
