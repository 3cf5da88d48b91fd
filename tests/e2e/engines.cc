#include "tests/e2e/engines.h"

#include <doctest/doctest.h>
#include <signal.h>
#include <sys/mount.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <boost/process.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace bp = boost::process;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace prochook::e2e {
namespace {

std::atomic<int> g_serial{0};

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

void Write(const fs::path& p, const std::string& text) { std::ofstream(p, std::ios::trunc) << text; }

// Engines leave mounts under their state dirs (podman's storage, dockerd's
// overlays when it dies); detach them, deepest first, before removing.
void UnmountUnder(const std::string& dir) {
  std::ifstream in("/proc/self/mountinfo");
  std::vector<std::string> points;
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream f(line);
    std::string id, parent, dev, root, point;
    f >> id >> parent >> dev >> root >> point;
    if (point.compare(0, dir.size() + 1, dir + "/") == 0) points.push_back(point);
  }
  std::sort(points.begin(), points.end(), [](auto& a, auto& b) { return a.size() > b.size(); });
  for (const std::string& p : points) ::umount2(p.c_str(), MNT_DETACH);
}

// Whether any process still names dir on its command line: podman's
// conmon runs `podman container cleanup` after the container exits, and
// shims outlive their tasks briefly; both write under dir.
bool ProcessesUse(const std::string& dir) {
  std::error_code ec;
  for (const auto& p : fs::directory_iterator("/proc", ec)) {
    const std::string cmdline = ReadText((p.path() / "cmdline").string());
    if (cmdline.find(dir) != std::string::npos) return true;
  }
  return false;
}

}  // namespace

struct Daemon::Child {
  bp::child child;
};

Daemon::Daemon(const std::vector<std::string>& argv, const std::string& log)
    : child_(new Child{bp::child(bp::search_path(argv[0]),
                                 bp::args(std::vector<std::string>(argv.begin() + 1, argv.end())), bp::std_out > log,
                                 bp::std_err > log, bp::std_in < "/dev/null")}) {}

Daemon::~Daemon() {
  bp::child& c = child_->child;
  if (!c.running()) return;
  ::kill(c.id(), SIGTERM);
  if (!WaitFor(20s, [&] { return !c.running(); })) ::kill(c.id(), SIGKILL);
  c.wait();
}

std::vector<std::string> DockerdArgs(const std::string& work, const std::string& config_file) {
  // No bridge, no iptables: nothing may carry traffic to a private range.
  std::vector<std::string> args = {"dockerd", "--bridge=none", "--iptables=false", "--ip-masq=false",
                                   "--ip6tables=false", "--live-restore", "--data-root", work + "/data",
                                   "--exec-root", work + "/exec", "--pidfile", work + "/dockerd.pid", "-H",
                                   "unix://" + work + "/docker.sock"};
  if (!config_file.empty()) args.insert(args.end(), {"--config-file", config_file});
  return args;
}

std::string EngineName(Engine e) {
  switch (e) {
    case Engine::kRunc: return "runc";
    case Engine::kCrun: return "crun";
    case Engine::kPodmanRunc: return "podman+runc";
    case Engine::kPodmanCrun: return "podman+crun";
    case Engine::kPodmanWrapper: return "podman+prochook-runtime";
    case Engine::kDocker: return "docker";
    case Engine::kContainerd: return "containerd";
  }
  return "?";
}

std::vector<std::string> EngineTools(Engine e) {
  switch (e) {
    case Engine::kRunc: return {"runc"};
    case Engine::kCrun: return {"crun"};
    case Engine::kPodmanRunc: return {"podman", "runc"};
    case Engine::kPodmanCrun: return {"podman", "crun"};
    case Engine::kPodmanWrapper: return {"podman", "runc"};
    // /usr/bin/docker: Debian's client, matching its dockerd.
    case Engine::kDocker: return {"dockerd", "/usr/bin/docker", "containerd", "tar"};
    case Engine::kContainerd: return {"containerd", "ctr", "containerd-shim-runc-v2"};
  }
  return {};
}

void PrepareCgroupsForCrun() {
  const std::string v2 = ReadText("/sys/fs/cgroup/unified/cgroup.controllers");
  if (v2.find("hugetlb") == std::string::npos) return;
  fs::create_directories("/sys/fs/cgroup/hugetlb");
  RunResult m = Run({"mount", "-t", "cgroup", "-o", "hugetlb", "cgroup", "/sys/fs/cgroup/hugetlb"});
  REQUIRE_MESSAGE(m.exit_code == 0, "mounting a v1 hugetlb hierarchy for crun: " << m.err);
}

class EngineContainer::Impl {
 public:
  explicit Impl(const std::string& kind) {
    tag_ = "prochook-e2e-" + std::to_string(getpid()) + "-" + kind + "-" + std::to_string(g_serial++);
    char tmpl[] = "/tmp/prochook-eng-XXXXXX";
    REQUIRE(::mkdtemp(tmpl) != nullptr);
    work_ = tmpl;
    MakeRootfs(work_ + "/rootfs");
  }
  virtual ~Impl() {
    WaitFor(20s, [&] { return !ProcessesUse(work_); });
    UnmountUnder(work_);
    std::error_code ec;
    fs::remove_all(work_, ec);
    // The engines were told to put the container under /<tag>.
    RemoveCgroups(tag_);
  }
  virtual RunResult Start(const Limits& l, std::string* id) = 0;
  // `prochook install --root <work>/root`: the engines use what it wrote,
  // as a user would after installing.
  RunResult Install() {
    RunResult r = Run({ProchookBinary(), "install", "--root", work_ + "/root"});
    if (r.exit_code != 0) r.err = "prochook install: " + r.err;
    return r;
  }
  std::string Installed(const std::string& path) const { return work_ + "/root" + path; }
  virtual RunResult Exec(const std::vector<std::string>& argv) = 0;
  virtual void Remove() = 0;
  virtual RunResult Cycle(std::string*) { return {1, "", "cycles are implemented for podman only"}; }
  virtual RunResult Cli(const std::vector<std::string>&) { return {1, "", "this engine has no CLI of its own"}; }
  virtual RunResult RestartDaemon() { return {1, "", "this engine has no daemon"}; }

 protected:
  std::vector<std::string> Cat(std::vector<std::string> a, const std::vector<std::string>& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
  }
  std::string tag_;
  std::string work_;
};

namespace {

// runc and crun: prochook in config.json's hooks (the harness's Container).
class RuntimeImpl : public EngineContainer::Impl {
 public:
  explicit RuntimeImpl(const std::string& runtime) : Impl(runtime), runtime_(runtime) {}
  RunResult Start(const EngineContainer::Limits& l, std::string* id) override {
    c_ = std::make_unique<Container>(
        Container::Options{.memory_limit = l.memory, .cpu_quota_us = l.cpu_quota_us, .runtime = runtime_,
                           .annotations = l.annotations});
    *id = c_->id();
    return c_->Start();
  }
  RunResult Exec(const std::vector<std::string>& argv) override { return c_->Exec(argv); }
  void Remove() override {
    if (c_) c_->Stop();
  }

 private:
  std::string runtime_;
  std::unique_ptr<Container> c_;
};

// podman with the hooks.d directory `prochook install` wrote.
class PodmanImpl : public EngineContainer::Impl {
 public:
  // runtime "": the runtime "prochook" `prochook install` configured (the
  // wrapper, runc behind it).
  explicit PodmanImpl(const std::string& runtime) : Impl("podman"), runtime_(runtime) {}
  ~PodmanImpl() override { Remove(); }
  RunResult Start(const EngineContainer::Limits& l, std::string* id) override {
    if (!l.host_hooks) {
      if (RunResult i = Install(); i.exit_code != 0) return i;
      hooks_dir_ = Installed("/usr/share/containers/oci/hooks.d");
    }
    if (runtime_.empty()) {
      // The runtime "prochook" from the containers.conf drop-in install
      // wrote (CONTAINERS_CONF: the drop-in as podman's whole config); the
      // hooks.d hook is there too, and the wrapper adds none of its own.
      // Installed under --root, the link it names is too: point there.
      runtime_ = "prochook";
      const std::string link = fs::path(ProchookBinary()).parent_path().string() + "/prochook-runtime";
      std::string conf = ReadText(Installed("/etc/containers/containers.conf.d/prochook.conf"));
      const size_t at = conf.find("[\"" + link + "\"]");
      if (at == std::string::npos) return {1, "", "the podman drop-in does not name " + link + ":\n" + conf};
      conf.replace(at + 2, link.size(), Installed(link));
      conf_ = work_ + "/containers.conf";
      Write(conf_, conf);
    }
    // --rootfs is a flag: the rootfs comes where an image would.
    std::vector<std::string> run = {"run", "-d", "--name", tag_, "--network", "none", "--memory",
                                    std::to_string(l.memory), "--cpu-period", "100000", "--cpu-quota",
                                    std::to_string(l.cpu_quota_us), "--cgroup-parent", "/" + tag_,
                                    "--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024", "-v",
                                    "/usr:/usr:ro"};
    for (const auto& [k, v] : l.annotations) run = Cat(run, {"--annotation", k + "=" + v});
    limits_ = l;
    RunResult r = Run(Podman(Cat(run, {"--rootfs", work_ + "/rootfs", "sleep", "100000"})));
    *id = Trim(r.out);
    started_ = r.exit_code == 0;
    return r;
  }
  RunResult Cycle(std::string* id) override {
    const std::string name = tag_ + "-" + std::to_string(cycles_++);
    RunResult r = Run(Podman({"run", "-d", "--name", name, "--network", "none", "--memory",
                              std::to_string(limits_.memory), "--cgroup-parent", "/" + tag_, "--ulimit",
                              "nofile=1024:1024", "--ulimit", "nproc=1024:1024", "-v", "/usr:/usr:ro",
                              "--rootfs", work_ + "/rootfs", "sleep", "100000"}));
    *id = Trim(r.out);
    if (r.exit_code != 0) return r;
    return Run(Podman({"rm", "-f", "-t", "0", name}));
  }
  RunResult Exec(const std::vector<std::string>& argv) override {
    return Run(Podman(Cat({"exec", tag_}, argv)));
  }
  RunResult Cli(const std::vector<std::string>& args) override { return Run(Podman(args)); }
  void Remove() override {
    if (started_) Run(Podman({"rm", "-f", "-t", "0", tag_}));
    started_ = false;
  }

 private:
  std::vector<std::string> Podman(const std::vector<std::string>& args) {
    const std::vector<std::string> env = conf_.empty() ? std::vector<std::string>{}
                                                       : std::vector<std::string>{"env", "CONTAINERS_CONF=" + conf_};
    const std::vector<std::string> hooks =
        hooks_dir_.empty() ? std::vector<std::string>{} : std::vector<std::string>{"--hooks-dir", hooks_dir_};
    return Cat(Cat(Cat(env, {"podman", "--root", work_ + "/storage", "--runroot", work_ + "/run", "--cgroup-manager",
                             "cgroupfs", "--events-backend", "file", "--runtime", runtime_}),
                   hooks),
               args);
  }
  std::string runtime_;
  std::string hooks_dir_;
  std::string conf_;  // CONTAINERS_CONF, for the runtime "prochook"
  bool started_ = false;
  EngineContainer::Limits limits_;
  int cycles_ = 0;
};

// dockerd with the daemon.json `prochook install` wrote.
class DockerImpl : public EngineContainer::Impl {
 public:
  DockerImpl() : Impl("docker") {}
  ~DockerImpl() override {
    Remove();
    daemon_.reset();
  }
  RunResult Start(const EngineContainer::Limits& l, std::string* id) override {
    REQUIRE_MESSAGE(l.annotations.empty(), "docker run cannot set OCI annotations");
    if (RunResult i = Install(); i.exit_code != 0) return i;
    if (RunResult d = StartDaemon(); d.exit_code != 0) return d;
    RunResult import = Run({"sh", "-c", "tar -C " + work_ + "/rootfs -c . | /usr/bin/docker -H unix://" +
                                            work_ + "/docker.sock import - prochook-e2e"});
    if (import.exit_code != 0) return import;
    RunResult r = Run(Docker({"run", "-d", "--runtime", "prochook", "--network", "none", "--memory",
                              std::to_string(l.memory), "--cpu-period", "100000", "--cpu-quota",
                              std::to_string(l.cpu_quota_us), "--cgroup-parent", "/" + tag_, "-v",
                              "/usr:/usr:ro", "--name", tag_, "prochook-e2e", "sleep", "100000"}));
    *id = Trim(r.out);
    started_ = r.exit_code == 0;
    return r;
  }
  RunResult Exec(const std::vector<std::string>& argv) override {
    return Run(Docker(Cat({"exec", tag_}, argv)));
  }
  RunResult Cli(const std::vector<std::string>& args) override { return Run(Docker(args)); }
  // Live restore: the containers keep running while dockerd is down, and
  // the new dockerd takes them over (from containerd).
  RunResult RestartDaemon() override {
    daemon_.reset();
    return StartDaemon();
  }
  void Remove() override {
    if (started_) Run(Docker({"rm", "-f", tag_}));
    started_ = false;
  }

 private:
  std::vector<std::string> Docker(const std::vector<std::string>& args) {
    return Cat({"/usr/bin/docker", "-H", "unix://" + work_ + "/docker.sock"}, args);
  }
  RunResult StartDaemon() {
    daemon_ = std::make_unique<Daemon>(DockerdArgs(work_, Installed("/etc/docker/daemon.json")), work_ + "/dockerd.log");
    if (!WaitFor(60s, [&] { return Run(Docker({"info"})).exit_code == 0; })) {
      return {1, "", "dockerd did not come up:\n" + ReadText(work_ + "/dockerd.log")};
    }
    return {0, "", ""};
  }
  std::unique_ptr<Daemon> daemon_;
  bool started_ = false;
};

// containerd with the runc shim's BinaryName = the prochook-runtime link `prochook install` made.
class ContainerdImpl : public EngineContainer::Impl {
 public:
  ContainerdImpl() : Impl("containerd") {}
  ~ContainerdImpl() override {
    Remove();
    daemon_.reset();
  }
  RunResult Start(const EngineContainer::Limits& l, std::string* id) override {
    Write(work_ + "/config.toml", "version = 2\nroot = \"" + work_ + "/root\"\nstate = \"" + work_ +
                                      "/state\"\ndisabled_plugins = [\"io.containerd.grpc.v1.cri\"]\n"
                                      "[grpc]\n  address = \"" + work_ + "/containerd.sock\"\n"
                                      "[ttrpc]\n  address = \"" + work_ + "/containerd.sock.ttrpc\"\n");
    if (RunResult d = StartDaemon(); d.exit_code != 0) return d;
    if (RunResult i = Install(); i.exit_code != 0) return i;
    const std::string wrapper = Installed(fs::path(ProchookBinary()).parent_path().string() + "/prochook-runtime");
    *id = tag_;
    std::vector<std::string> annotations;
    for (const auto& [k, v] : l.annotations) annotations = Cat(annotations, {"--annotation", k + "=" + v});
    RunResult r = Run(Ctr(Cat(Cat({"run", "-d"}, annotations), {"--rootfs", "--env", "PATH=/usr/sbin:/usr/bin:/sbin:/bin",
                           "--runtime", "io.containerd.runc.v2", "--runc-binary",
                           wrapper, "--memory-limit", std::to_string(l.memory),
                           "--cpu-period", "100000", "--cpu-quota", std::to_string(l.cpu_quota_us),
                           "--cgroup", "/" + tag_ + "/" + tag_, "--mount",
                           "type=bind,src=/usr,dst=/usr,options=rbind:ro", work_ + "/rootfs", tag_,
                           "sleep", "100000"})));
    started_ = r.exit_code == 0;
    return r;
  }
  RunResult Exec(const std::vector<std::string>& argv) override {
    return Run(Ctr(Cat({"task", "exec", "--exec-id", "e" + std::to_string(g_serial++), tag_}, argv)));
  }
  RunResult Cli(const std::vector<std::string>& args) override { return Run(Ctr(args)); }
  // The shims keep the tasks running; the new containerd reconnects to them.
  RunResult RestartDaemon() override {
    daemon_.reset();
    return StartDaemon();
  }
  void Remove() override {
    if (!started_) return;
    started_ = false;
    Run(Ctr({"task", "kill", "-s", "SIGKILL", tag_}));
    WaitFor(10s, [&] { return Run(Ctr({"task", "rm", tag_})).exit_code == 0; });
    Run(Ctr({"container", "rm", tag_}));
  }

 private:
  std::vector<std::string> Ctr(const std::vector<std::string>& args) {
    return Cat({"ctr", "--address", work_ + "/containerd.sock"}, args);
  }
  RunResult StartDaemon() {
    daemon_ = std::make_unique<Daemon>(
        std::vector<std::string>{"containerd", "--config", work_ + "/config.toml"}, work_ + "/containerd.log");
    if (!WaitFor(30s, [&] { return Run(Ctr({"version"})).exit_code == 0; })) {
      return {1, "", "containerd did not come up:\n" + ReadText(work_ + "/containerd.log")};
    }
    return {0, "", ""};
  }
  std::unique_ptr<Daemon> daemon_;
  bool started_ = false;
};

}  // namespace

EngineContainer::EngineContainer(Engine engine, const Limits& limits) {
  switch (engine) {
    case Engine::kRunc: impl_ = std::make_unique<RuntimeImpl>("runc"); break;
    case Engine::kCrun:
      PrepareCgroupsForCrun();
      impl_ = std::make_unique<RuntimeImpl>("crun");
      break;
    case Engine::kPodmanRunc: impl_ = std::make_unique<PodmanImpl>("runc"); break;
    case Engine::kPodmanWrapper: impl_ = std::make_unique<PodmanImpl>(""); break;
    case Engine::kPodmanCrun:
      PrepareCgroupsForCrun();
      impl_ = std::make_unique<PodmanImpl>("crun");
      break;
    case Engine::kDocker: impl_ = std::make_unique<DockerImpl>(); break;
    case Engine::kContainerd: impl_ = std::make_unique<ContainerdImpl>(); break;
  }
  start_ = impl_->Start(limits, &id_);
}

EngineContainer::~EngineContainer() = default;

RunResult EngineContainer::Exec(const std::vector<std::string>& argv) const { return impl_->Exec(argv); }

void EngineContainer::Remove() { impl_->Remove(); }

RunResult EngineContainer::Cycle(std::string* id) { return impl_->Cycle(id); }

RunResult EngineContainer::Cli(const std::vector<std::string>& args) const { return impl_->Cli(args); }

RunResult EngineContainer::RestartDaemon() { return impl_->RestartDaemon(); }

}  // namespace prochook::e2e
