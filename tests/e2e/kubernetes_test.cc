// deploy/kubernetes/ as far as this machine allows (it has no kubelet and
// no cluster): the manifests against the Kubernetes API's schema, and the
// installer image run by Docker the way the DaemonSet runs it (privileged,
// the host's pid namespace, the host's root at /host, no network) against
// this machine's real root, where it configures the containerd that reads
// /etc/containerd/config.toml. The test stands in for systemd: the
// installer's restart command asks it, and it restarts that containerd.
#include <doctest/doctest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>

#include "tests/e2e/engines.h"
#include "tests/e2e/harness.h"
#include "tests/testing.h"

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using namespace prochook::e2e;

namespace {

const std::string kDeploy = "deploy/kubernetes";
const std::string kManifests[] = {kDeploy + "/00-namespace.yaml", kDeploy + "/10-runtimeclass.yaml",
                                  kDeploy + "/20-daemonset.yaml", kDeploy + "/sample/pod.yaml"};
// Debian's python3 with Debian's python3-kubernetes and python3-yaml.
const std::string kPython = "/usr/bin/python3";

RunResult CheckManifests(const std::vector<std::string>& paths) {
  std::vector<std::string> argv = {kPython, kDeploy + "/check-manifests.py"};
  argv.insert(argv.end(), paths.begin(), paths.end());
  return Run(argv);
}

// What the installer may touch on the host, as it was before the test: put
// back by the destructor whatever happens (the host's containerd config is
// shared with every other test on this machine).
class HostFiles {
 public:
  HostFiles() {
    for (const char* p : kPaths) before_[p] = Read(p);
  }
  ~HostFiles() {
    for (const auto& [path, was] : before_) {
      if (Read(path) == was) continue;
      std::error_code ec;
      if (!was) {
        fs::remove_all(path, ec);
      } else {
        std::ofstream(path, std::ios::binary | std::ios::trunc) << was->content;
        ::chmod(path.c_str(), was->mode & 07777);
      }
    }
  }
  // The paths whose type, mode, content or link target differ from before.
  std::vector<std::string> Changed() const {
    std::vector<std::string> out;
    for (const auto& [path, was] : before_) {
      if (Read(path) != was) out.push_back(path);
    }
    return out;
  }
  bool Existed(const std::string& path) const { return before_.at(path).has_value(); }
  const std::string& Before(const std::string& path) const { return before_.at(path)->content; }

  static constexpr const char* kPaths[] = {
      "/etc/containerd/config.toml", "/etc/containerd/prochook.toml", "/usr/local/bin/prochook",
      "/usr/local/bin/prochook-runtime", "/usr/local/bin/prochook.prochook-new",
      // containerd's opt plugin (in Debian's config.toml) makes it.
      "/var/lib/containerd"};

 private:
  struct State {
    mode_t mode;
    std::string content;  // a file's bytes, a link's target, "" for a directory
    bool operator==(const State&) const = default;
  };
  static std::optional<State> Read(const std::string& path) {
    struct stat st;
    if (::lstat(path.c_str(), &st) != 0) return std::nullopt;
    if (S_ISLNK(st.st_mode)) return State{st.st_mode, fs::read_symlink(path).string()};
    if (S_ISREG(st.st_mode)) return State{st.st_mode, ReadText(path)};
    return State{st.st_mode, ""};
  }
  std::map<std::string, std::optional<State>> before_;
};

// The host's containerd, as its service would run it (its config.toml and
// what that imports), with a socket, root and state of this test's own.
class HostContainerd {
 public:
  explicit HostContainerd(const std::string& work) : work_(work) { fs::create_directories(work); }
  std::string address() const { return work_ + "/containerd.sock"; }
  // The log of the containerd running now.
  std::string log() const { return work_ + "/containerd-" + std::to_string(starts_) + ".log"; }
  int restarts() const { return starts_ - 1; }
  RunResult Start() {
    daemon_.reset();
    ++starts_;
    daemon_ = std::make_unique<Daemon>(std::vector<std::string>{"containerd", "--config", "/etc/containerd/config.toml",
                                                                "--address", address(), "--root", work_ + "/root",
                                                                "--state", work_ + "/state"},
                                       log());
    if (!WaitFor(60s, [&] { return Ctr({"version"}).exit_code == 0; })) {
      return {1, "", "containerd did not come up:\n" + ReadText(log())};
    }
    return {0, "", ""};
  }
  // What systemctl restart does for the installer: it touches the request
  // file and waits until it is gone.
  std::string RestartCommand() const {
    return "touch " + Request() + " && while [ -e " + Request() + " ]; do sleep 0.2; done";
  }
  void ServeRestart() {
    if (!fs::exists(Request())) return;
    RunResult r = Start();
    CHECK_MESSAGE(r.exit_code == 0, r.err);
    fs::remove(Request());
  }
  RunResult Ctr(const std::vector<std::string>& args) const {
    std::vector<std::string> argv = {"ctr", "--address", address(), "--namespace", "k8s.io"};
    argv.insert(argv.end(), args.begin(), args.end());
    return Run(argv);
  }

 private:
  std::string Request() const { return work_ + "/restart-requested"; }
  std::string work_;
  int starts_ = 0;
  std::unique_ptr<Daemon> daemon_;
};

std::string Made(const std::string& dir) {
  fs::create_directories(dir);
  return dir;
}

// A dockerd of this test's own (no bridge, no iptables).
class Dockerd {
 public:
  explicit Dockerd(const std::string& work)
      : work_(work), daemon_(DockerdArgs(Made(work), ""), work + "/dockerd.log") {}
  std::string command() const { return "/usr/bin/docker -H unix://" + work_ + "/docker.sock"; }
  RunResult Docker(const std::vector<std::string>& args) const {
    std::vector<std::string> argv = {"/usr/bin/docker", "-H", "unix://" + work_ + "/docker.sock"};
    argv.insert(argv.end(), args.begin(), args.end());
    return Run(argv);
  }
  bool Up() const {
    return WaitFor(60s, [&] { return Docker({"info"}).exit_code == 0; });
  }

 private:
  std::string work_;
  Daemon daemon_;
};

std::string Bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

}  // namespace

TEST_CASE("the manifests are valid for the Kubernetes API; a wrong field, type or kind is not") {
  if (Run({kPython, "-c", "import kubernetes.client, yaml"}).exit_code != 0 &&
      prochook::testing::SkipOrFailInCi("Debian's python3-kubernetes and python3-yaml are not installed")) {
    return;
  }
  RunResult ok = CheckManifests({std::begin(kManifests), std::end(kManifests)});
  INFO(ok.out << ok.err);
  CHECK(ok.exit_code == 0);
  CHECK(ok.out.find("apps/v1 DaemonSet prochook-installer: valid") != std::string::npos);
  CHECK(ok.out.find("node.k8s.io/v1 RuntimeClass prochook: valid") != std::string::npos);
  CHECK(ok.out.find("v1 Pod prochook-sample: valid") != std::string::npos);
  CHECK(ok.out.find("v1 Namespace prochook-system: valid") != std::string::npos);

  // The checker can fail: each fault planted in a copy is named.
  struct Fault {
    std::string file, from, to, says;
  };
  const Fault faults[] = {
      {"20-daemonset.yaml", "hostPID", "hostPid", "V1PodSpec has no field 'hostPid'"},
      {"20-daemonset.yaml", "periodSeconds: 10", "periodSeconds: \"10\"", "expected int, got str"},
      {"20-daemonset.yaml", "apiVersion: apps/v1", "apiVersion: v1", "unknown apiVersion/kind v1/DaemonSet"},
      {"20-daemonset.yaml", "        - name: installer", "        - image2: x",
       "Invalid value for `name`, must not be `None`"},
      {"10-runtimeclass.yaml", "handler: prochook", "", "Invalid value for `handler`, must not be `None`"},
      {"sample/pod.yaml", "runtimeClassName", "runtimeClass", "V1PodSpec has no field 'runtimeClass'"},
  };
  prochook::testing::TempDir t;
  for (const Fault& f : faults) {
    CAPTURE(f.says);
    std::string text = ReadText(kDeploy + "/" + f.file);
    const size_t at = text.find(f.from);
    REQUIRE(at != std::string::npos);
    text.replace(at, f.from.size(), f.to);
    t.Write({{"bad.yaml", text}});
    RunResult bad = CheckManifests({t.path() + "/bad.yaml"});
    CHECK(bad.exit_code == 1);
    CHECK(bad.out.find(f.says) != std::string::npos);
  }
}

// One node: this host's files as they were (put back at the end), its
// containerd, a private dockerd and the installer image built from the
// binary under test, as an operator builds it.
class Node {
 public:
  Node() {
    // Another prochook installed on this host would be overwritten: refuse.
    for (const char* p : {"/etc/containerd/prochook.toml", "/usr/local/bin/prochook", "/usr/local/bin/prochook-runtime"}) {
      REQUIRE_MESSAGE(!host.Existed(p), p << " exists: prochook is installed on this host; this test would replace it");
    }
    REQUIRE_MESSAGE(host.Existed("/etc/containerd/config.toml"), "no /etc/containerd/config.toml (Debian's containerd)");
    REQUIRE(containerd.Start().exit_code == 0);
    REQUIRE_MESSAGE(dockerd.Up(), ReadText(work.path() + "/docker/dockerd.log"));
    RunResult built = Run({"env", "DOCKER=" + dockerd.command(), "bash", kDeploy + "/build-image.sh", "--binary",
                           ProchookBinary(), "--tag", tag, "--out", tarball});
    REQUIRE_MESSAGE(built.exit_code == 0, built.out << built.err);
  }
  ~Node() {
    dockerd.Docker({"rm", "-f", name});
    dockerd.Docker({"rmi", "-f", tag});
  }
  // The installer's container, as the DaemonSet's pod spec has it, but
  // for --privileged: this machine's root lacks CAP_SYS_RESOURCE in its
  // bounding set, and Docker's --privileged asks for every capability
  // (runc: "unable to apply caps"). Every capability root has, no seccomp
  // filter, no AppArmor instead. restart: what stands for systemctl.
  RunResult StartInstaller(const std::string& restart) {
    return dockerd.Docker({"run", "-d", "--name", name, "--cap-add", "ALL", "--cap-drop", "SYS_RESOURCE",
                           "--security-opt", "seccomp=unconfined", "--security-opt", "apparmor=unconfined", "--pid",
                           "host", "--network", "none", "-v", "/:/host", "-e", "PROCHOOK_ENGINE=auto", "-e",
                           "PROCHOOK_RESTART_CONTAINERD=" + restart, "-e",
                           "PROCHOOK_CONTAINERD_ADDRESS=" + containerd.address(),
                           // This machine's init lets no one open its
                           // namespaces; the test is in the same ones.
                           "-e", "PROCHOOK_HOST_PID=" + std::to_string(getpid()), tag});
  }
  std::string Logs() const { return dockerd.Docker({"logs", name}).out; }
  bool Running() const { return dockerd.Docker({"inspect", "-f", "{{.State.Running}}", name}).out == "true\n"; }
  // Waits, standing in for systemd meanwhile, until the installer logs
  // line or exits.
  bool WaitForLog(const std::string& line) {
    return WaitFor(180s, [&] {
      containerd.ServeRestart();
      return Logs().find(line) != std::string::npos || !Running();
    });
  }
  bool WaitForExit() {
    return WaitFor(180s, [&] {
      containerd.ServeRestart();
      return !Running();
    });
  }
  // The host's files that are not as they were (the containerd this test
  // runs makes /var/lib/containerd: its opt plugin).
  std::vector<std::string> Changed() const {
    std::vector<std::string> changed = host.Changed();
    std::erase(changed, "/var/lib/containerd");
    return changed;
  }

  HostFiles host;
  prochook::testing::TempDir work;
  HostContainerd containerd{work.path() + "/containerd"};
  Dockerd dockerd{work.path() + "/docker"};
  const std::string tag = "prochook-installer:e2e-" + std::to_string(getpid());
  const std::string tarball = work.path() + "/prochook-installer.tar";
  const std::string name = "prochook-installer-e2e-" + std::to_string(getpid());
};

const std::vector<std::string> kNodeTools = {"dockerd", "/usr/bin/docker", "containerd", "ctr", "containerd-shim-runc-v2",
                                             "tar"};

TEST_CASE("the installer image configures this host's containerd: the prochook handler serves a k8s.io container; "
          "uninstall leaves every file as it was") {
  if (SkipUnlessReady(kNodeTools)) return;
  Node node;
  HostContainerd& containerd = node.containerd;
  RunResult run = node.StartInstaller(containerd.RestartCommand());
  REQUIRE_MESSAGE(run.exit_code == 0, run.err);
  const bool installed = node.WaitForLog("prochook-installer: installed");
  INFO("installer: " << node.Logs());
  REQUIRE(installed);
  REQUIRE(node.Running());

  // What it did to the host: the binary, the runtime link and one block
  // at the end of config.toml, then one restart of containerd.
  CHECK(Bytes("/usr/local/bin/prochook") == Bytes(ProchookBinary()));
  CHECK(fs::read_symlink("/usr/local/bin/prochook-runtime") == "/usr/local/bin/prochook");
  const std::string config = ReadText("/etc/containerd/config.toml");
  const std::string& original = node.host.Before("/etc/containerd/config.toml");
  CHECK(config.rfind(original, 0) == 0);
  CHECK(config.find("BinaryName = \"/usr/local/bin/prochook-runtime\"", original.size()) != std::string::npos);
  CHECK_FALSE(fs::exists("/etc/containerd/prochook.toml"));
  CHECK(containerd.restarts() == 1);
  // The restarted containerd's CRI plugin loaded, with the runtime handler
  // prochook (what kubelet asks for with runtimeClassName: prochook) and
  // the operator's own CRI settings (Debian's cni bin_dir).
  CHECK(containerd.Ctr({"plugins", "ls"}).out.find("cri                      linux/amd64    ok") != std::string::npos);
  const std::string log = ReadText(containerd.log());
  CHECK(log.find("prochook:{Type:io.containerd.runc.v2") != std::string::npos);
  CHECK(log.find("Options:map[BinaryName:/usr/local/bin/prochook-runtime]") != std::string::npos);
  CHECK(log.find("NetworkPluginBinDir:/usr/lib/cni") != std::string::npos);

  // The saved image imports into the k8s.io namespace, as on a node.
  RunResult imported = containerd.Ctr({"images", "import", node.tarball});
  CHECK_MESSAGE(imported.exit_code == 0, imported.err);
  CHECK(containerd.Ctr({"images", "ls", "-q"}).out.find(node.tag) != std::string::npos);

  // A container in k8s.io through the handler's runtime_type and
  // BinaryName (ctr has no CRI client: the handler's two settings, given
  // as flags), 256 MiB and one CPU.
  {
    const std::string id = "prochook-k8s-e2e-" + std::to_string(getpid());
    const std::string rootfs = node.work.path() + "/rootfs";
    MakeRootfs(rootfs);
    struct Task {
      const HostContainerd& c;
      std::string id;
      ~Task() {
        c.Ctr({"task", "kill", "-s", "SIGKILL", id});
        WaitFor(10s, [&] { return c.Ctr({"task", "rm", id}).exit_code == 0; });
        c.Ctr({"container", "rm", id});
        RemoveCgroups(id);
      }
    } task{containerd, id};
    RunResult started = containerd.Ctr(
        {"run", "-d", "--rootfs", "--env", "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "--runtime", "io.containerd.runc.v2",
         "--runc-binary", "/usr/local/bin/prochook-runtime", "--memory-limit", std::to_string(256ull << 20),
         "--cpu-period", "100000", "--cpu-quota", "100000", "--cgroup", "/" + id + "/" + id, "--mount",
         "type=bind,src=/usr,dst=/usr,options=rbind:ro", rootfs, id, "sleep", "100000"});
    REQUIRE_MESSAGE(started.exit_code == 0, started.err);
    CHECK(!StateDirFor(id).empty());
    RunResult meminfo = containerd.Ctr({"task", "exec", "--exec-id", "m", id, "cat", "/proc/meminfo"});
    REQUIRE(meminfo.exit_code == 0);
    CHECK(meminfo.out != ReadText("/proc/meminfo"));
    CHECK(MeminfoFields(meminfo.out)["MemTotal"] == 262144);
  }

  // The pod is deleted: SIGTERM, the installer uninstalls and restarts
  // containerd once more, and exits.
  REQUIRE(node.dockerd.Docker({"kill", "-s", "TERM", node.name}).exit_code == 0);
  const bool stopped = node.WaitForExit();
  INFO("installer: " << node.Logs());
  REQUIRE(stopped);
  CHECK(node.Logs().find("prochook-installer: uninstalled") != std::string::npos);
  CHECK(containerd.restarts() == 2);
  CHECK(ReadText(containerd.log()).find("BinaryName:/usr/local/bin/prochook-runtime") == std::string::npos);
  CHECK(containerd.Ctr({"plugins", "ls"}).out.find("cri                      linux/amd64    ok") != std::string::npos);
  // Byte for byte (and mode) as before; what it added is gone.
  for (const std::string& p : node.Changed()) FAIL_CHECK(p << " is not as it was before the test");
}

TEST_CASE("a containerd restart that fails: the installer puts every file back and fails") {
  if (SkipUnlessReady(kNodeTools)) return;
  Node node;
  // systemctl restart containerd failing (a unit that does not start).
  RunResult run = node.StartInstaller("exit 1");
  REQUIRE_MESSAGE(run.exit_code == 0, run.err);
  const bool exited = node.WaitForExit();
  const std::string logs = node.Logs();
  INFO("installer: " << logs);
  REQUIRE(exited);
  CHECK(node.dockerd.Docker({"inspect", "-f", "{{.State.ExitCode}}", node.name}).out == "1\n");
  // It wrote config.toml, tried the restart, took it back, said so.
  CHECK(logs.find("containerd: wrote /host/etc/containerd/config.toml (runtime handler \"prochook\";") !=
        std::string::npos);
  CHECK(logs.find("prochook-installer: restart failed") != std::string::npos);
  CHECK(logs.find("prochook-installer: rolling back") != std::string::npos);
  CHECK(logs.find("prochook-installer: not installed") != std::string::npos);
  for (const std::string& p : node.Changed()) FAIL_CHECK(p << " is not as it was before the test");
}
