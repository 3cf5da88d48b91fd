// Where rendered files live. Readers inside containers open (or keep open)
// bind mounts of these files while the renderer rewrites them in place, so
// the filesystem decides whether a read can see half of an update:
//  - XFS takes the inode lock around every buffered read and write, so a
//    read(2) sees the file before or after a write(2), never a mix
//    (measured: 0 torn reads in 10^6; see README);
//  - tmpfs and ext4 copy pages without it: a reader racing an update can
//    get a mix of two versions (1.5-2.7% of reads under a busy writer).
// So the run directory is made an XFS filesystem on a loop-mounted image on
// first use, when the host can (the xfsprogs package, loop devices);
// otherwise it stays a plain directory.
//
// The image is the store's single point of failure, so:
//  - every block of it is allocated when it is made (fallocate, not a
//    sparse file): XFS's writes land on blocks the backing filesystem has
//    already given it, so that filesystem filling up (a full /var or /run)
//    cannot fail a refresh and turn every container's reads into EIO;
//  - it lives on disk, /var/lib/prochook/store.img, not in /run (a small
//    tmpfs on systemd hosts, where 300 MB of reserved blocks would be
//    300 MB of RAM); a test's own run directory keeps it next to itself,
//    <run dir>.img;
//  - it is mounted in the host's mount namespace (that of pid 1), whatever
//    namespace the first hook runs in;
//  - a new container is admitted only while the store has kStoreReserve
//    bytes free, so the files of containers already served can always grow
//    (a full store makes new containers start unserved, never old ones
//    fail).
#pragma once

#include <cstdint>
#include <string>

#include "common/result.h"

namespace prochook {

enum class StoreKind { kXfs, kPlain };

inline constexpr char kDefaultStoreImage[] = "/var/lib/prochook/store.img";
// Free bytes the store keeps for the containers it serves (their files
// grow by a few KiB at most: a CPU more in cpuinfo, a longer diskstats).
inline constexpr uint64_t kStoreReserve = 16ull << 20;

// The image file behind run_dir's store.
std::string StoreImagePath(const std::string& run_dir);

// Makes run_dir a tear-free store if it is not one yet and nothing lives in
// it; safe to call concurrently (a lock file next to it). Never fails: a
// host that cannot gets a plain directory and the reason in the log.
StoreKind EnsureStore(const std::string& run_dir);

// Whether a new container may be served from run_dir: always on a plain
// directory; on the store while it has kStoreReserve bytes free.
Result<> CheckStoreRoom(const std::string& run_dir);

// Unmounts the store and deletes its image, if nothing is served from it
// (no state directory). Ok(false) when there is no store to remove.
Result<bool> RemoveStore(const std::string& run_dir);

// What readers of files under run_dir get, for `prochook ps`:
// "xfs (tear-free)" or "<fs> (updates may tear)".
std::string DescribeStore(const std::string& run_dir);

}  // namespace prochook
