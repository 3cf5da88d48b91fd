// End-to-end harness: real runc containers on this machine, driven with
// Boost.Process. The rootfs is an empty tree with the host's /usr bound
// read-only (busybox-static, procps, python3 run from it): no image.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/mountinfo.h"

namespace prochook::e2e {

struct RunResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

// Runs a program (searched in PATH) to completion, capturing its output.
// One that runs past 5 minutes (a hung runtime) is killed (SIGKILL): exit
// code -1, and err says so, so a test fails where it hung rather than
// stall the run.
RunResult Run(const std::vector<std::string>& argv, const std::string& stdin_text = "");

// Why the end-to-end tests cannot run here, or "" when they can. In CI a
// reason is a failure; elsewhere the tests skip visibly
// (prochook::testing::SkipOrFailInCi).
// extra_tools: programs this test needs besides the common ones.
std::string MissingPrerequisite(const std::vector<std::string>& extra_tools = {});
// True when the caller should return (skipping); fails the test in CI.
bool SkipUnlessReady(const std::vector<std::string>& extra_tools = {});

// Makes a minimal rootfs in dir: empty /proc, /sys, ..., bin/lib/sbin links
// into /usr (Debian 12 is merged-/usr), so binding the host's /usr
// read-only brings every tool.
void MakeRootfs(const std::string& dir);

// The prochook binary under test (absolute path, from runfiles).
std::string ProchookBinary();

// The runtime a Container uses unless told: $PROCHOOK_E2E_RUNTIME, else
// runc (the VM lane runs a test binary once per runtime this way).
std::string DefaultRuntime();

// Waits until pred() is true or the timeout passes; returns pred().
bool WaitFor(std::chrono::milliseconds timeout, const std::function<bool()>& pred);

// A runc bundle and the container made from it. Everything it creates
// (container, runc state, cgroups, bundle dir) is removed by the
// destructor, also when the test fails.
class Container {
 public:
  struct Options {
    uint64_t memory_limit = 256ull << 20;      // 0: no limit
    std::string cpus = "";                     // cpuset, e.g. "1"; "" for all
    int64_t cpu_quota_us = 0;                  // per 100 ms period; 0: no quota
    std::string runtime = DefaultRuntime();    // "runc" or "crun"
    std::string hook_stage = "createRuntime";  // or "prestart"; "" for no hooks
    // The create-stage hook as {path, args...}; empty: prochook itself.
    std::vector<std::string> hook_command = {};
    int hook_timeout_s = 0;  // the create-stage hook's "timeout"; 0: none
    // The poststop hook as {path, args...}; empty: prochook itself.
    std::vector<std::string> poststop_command = {};
    // The key the hooks name the state directory by (prochook hook
    // --state-key, as the NRI plugin gives it); "": the bundle.
    std::string state_key = "";
    // linux.seccomp; null: none.
    nlohmann::json seccomp = nullptr;
    std::map<std::string, std::string> annotations = {};
    // A host file bound over /proc/meminfo by runc itself (so prochook's
    // target is not a procfs file); "" for none.
    std::string meminfo_bind = "";
    // Mount destinations of runc's default spec to leave out ("/proc",
    // "/sys"), and entries to plant in the rootfs: path -> "->target" for a
    // symlink, else file content. For hostile-rootfs tests.
    std::vector<std::string> drop_mounts = {};
    // The pid namespace: "" a new one; "host" the host's; or a path such
    // as /proc/<pid>/ns/pid to join another container's.
    std::string pid_ns = "";
    std::map<std::string, std::string> rootfs_entries = {};
    // A cgroup namespace of its own: 1 yes, 0 no, -1 as `runc spec` makes
    // it (on a unified host it has one, elsewhere not).
    int cgroup_ns = -1;
    // Host directories bound read-write: container path -> host path.
    std::map<std::string, std::string> binds = {};
    // The OCI id; "" for one unique to this container. Each container has
    // its own runc root, so two may share an id.
    std::string id = "";
  };

  explicit Container(const Options& options);
  ~Container();
  Container(const Container&) = delete;
  Container& operator=(const Container&) = delete;

  const std::string& id() const { return id_; }
  const std::string& bundle() const { return bundle_; }
  // prochook's state directory for it (StateDirPath of id and bundle, or
  // of id and Options::state_key), and its name, which also names
  // prochook's mounts in mountinfo.
  std::string state_dir() const;
  std::string state_dir_name() const;

  // `runc run -d`; returns the result (0 on success).
  RunResult Start();
  // `runc exec <id> argv...`.
  RunResult Exec(const std::vector<std::string>& argv) const;
  // The runtime's command line prefix for this container's state root.
  std::vector<std::string> Runc(const std::vector<std::string>& args) const;
  // The container's cgroup directory in a v1 hierarchy ("cpuacct"), or
  // its one cgroup on a unified (v2 only) host, whatever the controller.
  std::string CgroupDir(const std::string& controller) const;
  // The cgroup its own is made in (runc creates it if missing).
  std::string ParentCgroupDir(const std::string& controller) const;
  // Host pid of the container init (from `runc state`), 0 if none.
  int InitPid() const;
  // `runc kill KILL`, wait for the init to exit, `runc delete`.
  void Stop();

 private:
  void Prepare(const Options& options);

  std::string id_;
  std::string bundle_;
  std::string state_key_;
  std::string runtime_;
  std::string runc_root_;
  std::string cgroup_parent_;
  bool stopped_ = false;
};

std::string ReadText(const std::string& path);

// Whether /sys/fs/cgroup is cgroup2 alone (a unified host).
bool UnifiedCgroups();

// The lines of /run/prochook/hook.log (and hook.log.1, where it rotates)
// written by hooks for container `id`.
std::string HookLogFor(const std::string& id);

// The renderer pid in the container's renderer.pid (0 if none).
int RendererPid(const Container& c);
// Whether a process with this pid exists.
bool Alive(int pid);
// The state directory of the one container with this id that prochook
// serves (the bundle unknown: engines make it), or "" if there is none.
std::string StateDirFor(const std::string& id);

// Renderer processes whose --state-dir is state_dir (the directory itself,
// so this holds whatever names state directories).
int RenderersOf(const std::string& state_dir);

// prochook's mounts in the container's own mount namespace, as the host sees
// it in /proc/<init>/mountinfo: the mount points whose file lies in the
// container's state directory. Empty once the container has no init. (The
// host's own mount table never has them: prochook mounts only inside.)
std::vector<std::string> ServedMounts(const Container& c);
// The host's mount that holds path: the topmost of those with the longest
// mount point above it.
prochook::MountInfo HostMountHolding(const std::string& path);
// The same as ServedMounts for any mount table (e.g. the host's).
std::vector<std::string> StateDirMounts(const std::string& state_dir, const std::string& mountinfo_path);

// Proves the container is served, for tests to call before checking what
// serving should do (so that a hook which declined cannot pass them):
// `prochook ps` lists it serving or idle, its /proc/meminfo is not procfs
// but the state directory's file (same device and inode), and
// /proc/meminfo is among ServedMounts. Fails the test case otherwise.
void RequireServed(const Container& c);

// Removes /sys/fs/cgroup/*/<name> and every cgroup below it (rmdir, deepest
// first), retrying for a few seconds while their last tasks exit.
void RemoveCgroups(const std::string& name);

// Fields of /proc/meminfo text, in kB.
std::map<std::string, uint64_t> MeminfoFields(const std::string& text);

}  // namespace prochook::e2e
