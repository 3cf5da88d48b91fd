#include "hook/inject.h"

#include <fcntl.h>
#include <linux/magic.h>
#include <linux/mount.h>
#include <linux/openat2.h>
#include <sched.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>

#include "common/fd.h"
#include "common/io.h"
#include "common/mountinfo.h"
#include "common/vfork.h"

namespace prochook {
namespace {

// glibc 2.36 wraps some of these, but its <sys/mount.h> clashes with
// <linux/mount.h>; the raw syscalls keep one set of definitions.
int OpenTree(int dfd, const char* path, unsigned flags) {
  return static_cast<int>(::syscall(SYS_open_tree, dfd, path, flags));
}
int MoveMount(int from_dfd, const char* from, int to_dfd, const char* to, unsigned flags) {
  return static_cast<int>(::syscall(SYS_move_mount, from_dfd, from, to_dfd, to, flags));
}
int MountSetattr(int dfd, const char* path, unsigned flags, struct mount_attr* attr) {
  return static_cast<int>(::syscall(SYS_mount_setattr, dfd, path, flags, attr, sizeof *attr));
}
int Openat2(int dfd, const char* path, struct open_how* how) {
  return static_cast<int>(::syscall(SYS_openat2, dfd, path, how, sizeof *how));
}

Result<UniqueFd> DetachedReadOnlyBind(const std::string& source) {
  UniqueFd tree(OpenTree(AT_FDCWD, source.c_str(), OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC));
  if (!tree.valid()) return Error::Sys("open_tree " + source);
  struct mount_attr attr = {};
  attr.attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC;
  if (MountSetattr(tree.get(), "", AT_EMPTY_PATH, &attr) != 0) {
    return Error::Sys("mount_setattr " + source);
  }
  return tree;
}

const char* FsName(unsigned long magic) {
  switch (magic) {
    case PROC_SUPER_MAGIC: return "procfs";
    case SYSFS_MAGIC: return "sysfs";
    case TMPFS_MAGIC: return "tmpfs";
    default: return "another filesystem";
  }
}

constexpr int kMntDetach = 2;  // <sys/mount.h>'s MNT_DETACH (see above)

bool IsSingleComponent(const std::string& name) {
  return !name.empty() && name != "." && name != ".." && name.find('/') == std::string::npos;
}

// Resolves a target inside the rootfs without following any symlink, so a
// container cannot point it at a host path.
Result<UniqueFd> ResolveInRoot(int root_fd, const MountPlan& plan) {
  struct open_how how = {};
  how.flags = O_PATH | O_CLOEXEC | O_NOFOLLOW | (plan.directory ? O_DIRECTORY : 0);
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
  UniqueFd target(Openat2(root_fd, plan.target.c_str(), &how));
  if (!target.valid()) return Error::Sys("resolve " + plan.target + " in the rootfs");
  return target;
}

// An entry of a directory held by fd, on that directory's own mount: a mount
// on the entry (made over it by someone else) is refused, not entered.
Result<UniqueFd> OpenEntry(int dir_fd, const std::string& name, const std::string& what) {
  struct open_how how = {};
  how.flags = O_PATH | O_NOFOLLOW | O_CLOEXEC;
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_XDEV | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
  UniqueFd entry(Openat2(dir_fd, name.c_str(), &how));
  if (!entry.valid() && errno == EXDEV) {
    return Error::Msg(what + " has another mount over it; refusing to use it");
  }
  if (!entry.valid()) return Error::Sys("open " + what);
  return entry;
}

// The mount table of the container's namespace, read once per hook (it is
// ~1 ms to read and parse per file otherwise) and again only when asked
// for a mount it does not list yet.
class MountTable {
 public:
  Result<const MountInfo*> Find(uint64_t mount_id) {
    for (int attempt = 0; attempt < 2; ++attempt) {
      if (attempt == 1 || mounts_.empty()) {
        auto mi = ReadFile("/proc/thread-self/mountinfo", 16 << 20);
        if (!mi) return mi.error();
        mounts_ = ParseMountinfo(*mi);
      }
      for (const MountInfo& m : mounts_) {
        if (static_cast<uint64_t>(m.mount_id) == mount_id) return &m;
      }
    }
    return static_cast<const MountInfo*>(nullptr);
  }

 private:
  std::vector<MountInfo> mounts_;
};

// The target must be the kernel's own file (procfs/sysfs), of the expected
// type, on a mount whose propagation cannot carry our mount elsewhere.
Result<> CheckTarget(int target_fd, const MountPlan& plan, MountTable& table) {
  struct statfs sfs;
  if (::fstatfs(target_fd, &sfs) != 0) return Error::Sys("statfs " + plan.target);
  if (static_cast<unsigned long>(sfs.f_type) != plan.fs_magic) {
    char found[64];
    snprintf(found, sizeof found, "%s, magic 0x%lx", FsName(sfs.f_type),
             static_cast<unsigned long>(sfs.f_type));
    return Error::Msg(plan.target + " is not a " + FsName(plan.fs_magic) + " " +
                      (plan.directory ? "directory" : "file") + " (it is on " + found +
                      "); refusing to mount over it");
  }
  struct statx stx;
  if (::statx(target_fd, "", AT_EMPTY_PATH, STATX_TYPE | STATX_MNT_ID, &stx) != 0) {
    return Error::Sys("statx " + plan.target);
  }
  if (plan.directory ? !S_ISDIR(stx.stx_mode) : !S_ISREG(stx.stx_mode)) {
    return Error::Msg(plan.target + " is not a " +
                      (plan.directory ? "directory" : "regular file"));
  }
  // A mount on a shared mount propagates to its peers, which may include
  // the host's namespace. The runtimes make the container's mounts slave or
  // private before hooks run; refuse anything else.
  auto m = table.Find(stx.stx_mnt_id);
  if (!m) return m.error().Wrap("checking propagation of " + plan.target);
  if (!*m) return Error::Msg(plan.target + ": its mount is not in the container's mount table");
  if (IsShared(**m)) {
    return Error::Msg(plan.target + " is on a shared mount (" + (*m)->mount_point +
                      "); mounting there would propagate outside the container");
  }
  return Ok{};
}

Result<> Attach(int tree_fd, int target_fd, const std::string& what) {
  if (MoveMount(tree_fd, "", target_fd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) != 0) {
    return Error::Sys("move_mount onto " + what);
  }
  return Ok{};
}

// Mounts made so far in the container, for undoing them after a refusal.
class Rollback {
 public:
  void Add(UniqueFd mounted, std::string what) { mounted_.push_back({std::move(mounted), std::move(what)}); }
  // Detaches every mount made, newest first. An error names the first that
  // could not be detached: it, at least, stays mounted.
  Result<> Undo() {
    Result<> result = Ok{};
    for (auto it = mounted_.rbegin(); it != mounted_.rend(); ++it) {
      // The O_PATH fd names the mount's root; umount through its magic link.
      const std::string path = "/proc/self/fd/" + std::to_string(it->fd.get());
      if (::syscall(SYS_umount2, path.c_str(), kMntDetach) != 0 && result) {
        result = Error::Sys("umount " + it->what);
      }
    }
    mounted_.clear();
    return result;
  }

 private:
  struct Mounted {
    UniqueFd fd;
    std::string what;
  };
  std::vector<Mounted> mounted_;
};

// Runs in the child, inside the container's mount namespace. False when
// the plan was skipped (skip_if_missing).
Result<bool> AttachOne(int root_fd, const MountPlan& plan, int tree_fd, MountTable& table,
                   Rollback& rollback) {
  auto resolved = ResolveInRoot(root_fd, plan);
  if (!resolved && plan.skip_if_missing && resolved.error().err() == ENOENT) return false;
  if (!resolved) return resolved.error();
  UniqueFd target = std::move(*resolved);
  if (auto ok = CheckTarget(target.get(), plan, table); !ok) return ok.error();

  // Clone the entries to keep before the original disappears under ours.
  std::vector<UniqueFd> kept;
  for (const auto& [from, to] : plan.keep) {
    if (!IsSingleComponent(from) || !IsSingleComponent(to)) {
      return Error::Msg("bad entry to keep: " + from + " -> " + to);
    }
    auto original = OpenEntry(target.get(), from, plan.target + "/" + from);
    if (!original) return original.error();
    UniqueFd clone(OpenTree(original->get(), "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH));
    if (!clone.valid()) return Error::Sys("open_tree " + plan.target + "/" + from);
    kept.push_back(std::move(clone));
  }

  // From here on only fds name our mounts: a path looked up again could
  // meet whatever was mounted over the target meanwhile. After move_mount
  // the tree's fd names the mount just attached (a dup shares that file).
  UniqueFd mounted(::fcntl(tree_fd, F_DUPFD_CLOEXEC, 0));
  if (!mounted.valid()) return Error::Sys("dup the mount of " + plan.target);
  if (auto ok = Attach(mounted.get(), target.get(), plan.target); !ok) return ok.error();
  const int mounted_dir = mounted.get();  // stays open, held by the rollback
  rollback.Add(std::move(mounted), plan.target);
  for (size_t i = 0; i < kept.size(); ++i) {
    const std::string& to = plan.keep[i].second;
    auto slot = OpenEntry(mounted_dir, to, plan.target + "/" + to);
    if (!slot) return slot.error();
    if (auto ok = Attach(kept[i].get(), slot->get(), plan.target + "/" + to); !ok) return ok.error();
    rollback.Add(std::move(kept[i]), plan.target + "/" + to);
  }
  return true;
}

// *undone: false while a mount of ours may be in the namespace. The
// number of plans attached.
Result<size_t> ApplyInChild(int init_pidfd, const std::string& rootfs, const std::vector<MountPlan>& plans,
                      const std::vector<UniqueFd>& trees, bool* undone) {
  *undone = true;
  if (::setns(init_pidfd, CLONE_NEWNS) != 0) return Error::Sys("setns into the container");
  UniqueFd root(::open(rootfs.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!root.valid()) return Error::Sys("open rootfs " + rootfs);
  Rollback rollback;
  MountTable table;
  size_t attached = 0;
  for (size_t i = 0; i < plans.size(); ++i) {
    *undone = false;
    auto ok = AttachOne(root.get(), plans[i], trees[i].get(), table, rollback);
    if (ok) attached += *ok ? 1 : 0;
    if (!ok) {
      auto undo = rollback.Undo();
      *undone = undo.ok();
      if (!undo) {
        return ok.error().Wrap("mount").Wrap("some mounts remain (the rollback failed: " +
                                             undo.error().message() + ") after");
      }
      return ok.error().Wrap("mount");
    }
  }
  return attached;
}

}  // namespace

Result<size_t> ApplyMounts(int init_pidfd, const std::string& rootfs, const std::vector<MountPlan>& plans,
                           bool* mounts_may_remain) {
  *mounts_may_remain = false;
  std::vector<UniqueFd> trees;
  for (const MountPlan& plan : plans) {
    TRY_ASSIGN(UniqueFd tree, DetachedReadOnlyBind(plan.source), "preparing mounts");
    trees.push_back(std::move(tree));
  }

  // setns(CLONE_NEWNS) needs a single-threaded caller that shares no fs
  // state: a child is exactly that. It shares our memory (we wait for it),
  // so its result is simply written into `result` and `undone`.
  Result<size_t> result = Error::Msg("mount helper died");
  bool undone = false;
  pid_t child = RunShared([&] {
    result = ApplyInChild(init_pidfd, rootfs, plans, trees, &undone);
    return result ? 0 : 1;
  });
  if (child < 0) return Error::Sys("clone");
  int status = 0;
  while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
  // From here on, mounts may be in the container unless the helper said
  // it undid them all.
  *mounts_may_remain = true;
  if (!WIFEXITED(status)) {
    return Error::Msg("mount helper died (status " + std::to_string(status) +
                      "); mounts it made may remain");
  }
  // The child's message already carries strerror.
  if (!result) {
    *mounts_may_remain = !undone;
    return result.error().Wrap("in the container's mount namespace");
  }
  return *result;
}

}  // namespace prochook
