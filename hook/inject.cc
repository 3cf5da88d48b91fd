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
#include "hook/mountinfo.h"

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

// Runs in the child, inside the container's mount namespace.
Result<> AttachOne(int root_fd, const MountPlan& plan, int tree_fd) {
  struct open_how how = {};
  how.flags = O_PATH | O_CLOEXEC | O_NOFOLLOW;
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
  UniqueFd target(Openat2(root_fd, plan.target.c_str(), &how));
  if (!target.valid()) return Error::Sys("resolve " + plan.target + " in the rootfs");

  struct statfs sfs;
  if (::fstatfs(target.get(), &sfs) != 0) return Error::Sys("statfs " + plan.target);
  if (static_cast<unsigned long>(sfs.f_type) != plan.fs_magic) {
    char found[64];
    snprintf(found, sizeof found, "%s, magic 0x%lx", FsName(sfs.f_type),
             static_cast<unsigned long>(sfs.f_type));
    return Error::Msg(plan.target + " is not a " + FsName(plan.fs_magic) + " file (it is on " +
                      found + "); refusing to mount over it");
  }
  struct statx stx;
  if (::statx(target.get(), "", AT_EMPTY_PATH, STATX_TYPE | STATX_MNT_ID, &stx) != 0) {
    return Error::Sys("statx " + plan.target);
  }
  if (!S_ISREG(stx.stx_mode)) return Error::Msg(plan.target + " is not a regular file");

  // A mount on a shared mount propagates to its peers, which may include
  // the host's namespace. The runtimes make the container's mounts slave or
  // private before hooks run; refuse anything else.
  auto mi = ReadFile("/proc/thread-self/mountinfo", 16 << 20);
  if (!mi) return mi.error().Wrap("checking propagation of " + plan.target);
  bool found = false;
  for (const MountInfo& m : ParseMountinfo(*mi)) {
    if (static_cast<uint64_t>(m.mount_id) != stx.stx_mnt_id) continue;
    found = true;
    if (IsShared(m)) {
      return Error::Msg(plan.target + " is on a shared mount (" + m.mount_point +
                        "); mounting there would propagate outside the container");
    }
  }
  if (!found) return Error::Msg(plan.target + ": its mount is not in the container's mount table");

  if (MoveMount(tree_fd, "", target.get(), "",
                MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) != 0) {
    return Error::Sys("move_mount onto " + plan.target);
  }
  return Ok{};
}

Result<> ApplyInChild(int ns_fd, const std::string& rootfs, const std::vector<MountPlan>& plans,
                      const std::vector<UniqueFd>& trees) {
  if (::setns(ns_fd, CLONE_NEWNS) != 0) return Error::Sys("setns into the container");
  UniqueFd root(::open(rootfs.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!root.valid()) return Error::Sys("open rootfs " + rootfs);
  for (size_t i = 0; i < plans.size(); ++i) {
    TRY(AttachOne(root.get(), plans[i], trees[i].get()), "mount");
  }
  return Ok{};
}

}  // namespace

Result<> ApplyMounts(pid_t pid, const std::string& rootfs, const std::vector<MountPlan>& plans) {
  const std::string ns_path = "/proc/" + std::to_string(pid) + "/ns/mnt";
  UniqueFd ns(::open(ns_path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!ns.valid()) return Error::Sys("open " + ns_path);

  std::vector<UniqueFd> trees;
  for (const MountPlan& plan : plans) {
    TRY_ASSIGN(UniqueFd tree, DetachedReadOnlyBind(plan.source), "preparing mounts");
    trees.push_back(std::move(tree));
  }

  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0) return Error::Sys("pipe");
  UniqueFd rd(p[0]), wr(p[1]);
  // setns(CLONE_NEWNS) needs a single-threaded caller that shares no fs
  // state: a freshly forked child is exactly that.
  pid_t child = ::fork();
  if (child < 0) return Error::Sys("fork");
  if (child == 0) {
    rd.reset();
    Result<> r = ApplyInChild(ns.get(), rootfs, plans, trees);
    if (!r) {
      (void)WriteAll(wr.get(), r.error().message());
      _exit(1);
    }
    _exit(0);
  }
  wr.reset();
  auto report = ReadAll(rd.get(), 64 << 10);
  int status = 0;
  while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return Ok{};
  // The child's message already carries strerror.
  if (report && !report->empty()) {
    return Error::Msg(*report).Wrap("in the container's mount namespace");
  }
  return Error::Msg("mount helper died (status " + std::to_string(status) + ")");
}

}  // namespace prochook
