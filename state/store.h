// Where rendered files live. Readers inside containers open (or keep open)
// bind mounts of these files while the renderer rewrites them in place, so
// the filesystem decides whether a read can see half of an update:
//  - XFS takes the inode lock around every buffered read and write, so a
//    read(2) sees the file before or after a write(2), never a mix
//    (measured: 0 torn reads in 10^6; see README);
//  - tmpfs and ext4 copy pages without it: a reader racing an update can
//    get a mix of two versions (1.5-2.7% of reads under a busy writer).
// So the run directory is made an XFS filesystem on a sparse image
// (<run dir>.img, next to it on /run) on first use, when the host can (the
// xfsprogs package, loop devices); otherwise it stays a plain directory.
#pragma once

#include <string>

namespace prochook {

enum class StoreKind { kXfs, kPlain };

// Makes run_dir a tear-free store if it is not one yet and nothing lives in
// it; safe to call concurrently (a lock file next to it). Never fails: a
// host that cannot gets a plain directory and the reason in the log.
StoreKind EnsureStore(const std::string& run_dir);

// What readers of files under run_dir get, for `prochook ps`:
// "xfs (tear-free)" or "<fs> (updates may tear)".
std::string DescribeStore(const std::string& run_dir);

}  // namespace prochook
