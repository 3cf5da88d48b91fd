#include "tests/e2e/harness.h"

#include <doctest/doctest.h>
#include <signal.h>
#include <linux/magic.h>
#include <sys/statfs.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <boost/process.hpp>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

#include "state/record.h"
#include "state/state_dir.h"
#include "common/mountinfo.h"
#include "tests/testing.h"

namespace bp = boost::process;
namespace fs = std::filesystem;

namespace prochook::e2e {

std::string ReadText(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string HookLogFor(const std::string& id) {
  std::string out;
  std::istringstream in(ReadText("/run/prochook/hook.log.1") + ReadText("/run/prochook/hook.log"));
  const std::string tag = "prochook hook " + id + "[";
  for (std::string line; std::getline(in, line);) {
    if (line.find(tag) != std::string::npos) out += line + "\n";
  }
  return out;
}

int RendererPid(const Container& c) {
  std::istringstream in(ReadText(c.state_dir() + "/renderer.pid"));
  int pid = 0;
  in >> pid;
  return pid;
}

bool Alive(int pid) { return pid > 0 && ::kill(pid, 0) == 0; }

std::string StateDirFor(const std::string& id) {
  std::vector<std::string> found;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(prochook::kDefaultRunDir, ec)) {
    const auto record = nlohmann::json::parse(ReadText((e.path() / "state.json").string()), nullptr, false);
    if (!record.is_discarded() && record.value("id", "") == id) found.push_back(e.path().string());
  }
  return found.size() == 1 ? found[0] : "";
}

std::string Container::state_dir() const { return std::string(prochook::kDefaultRunDir) + "/" + state_dir_name(); }
std::string Container::state_dir_name() const {
  return prochook::StateDirName(id_, state_key_.empty() ? bundle_ : state_key_);
}

RunResult Run(const std::vector<std::string>& argv, const std::string& stdin_text) {
  RunResult r;
  const boost::filesystem::path exe =
      argv.at(0).find('/') != std::string::npos ? boost::filesystem::path(argv[0])
                                                : bp::search_path(argv[0]);
  if (exe.empty()) {
    r.err = argv[0] + ": not found in PATH";
    return r;
  }
  // Files, not pipes: `runc run -d` hands its stdio to the container init,
  // so a pipe would stay open for the container's whole life.
  char dir_tmpl[] = "/tmp/prochook-run-XXXXXX";
  if (::mkdtemp(dir_tmpl) == nullptr) {
    r.err = "mkdtemp failed";
    return r;
  }
  const fs::path dir = dir_tmpl;
  std::ofstream(dir / "in") << stdin_text;
  std::vector<std::string> args(argv.begin() + 1, argv.end());
  bp::child c(exe, bp::args(args), bp::std_in < (dir / "in").string(),
              bp::std_out > (dir / "out").string(), bp::std_err > (dir / "err").string());
  // A watchdog kills it through a pidfd (never a reused pid) once it is
  // overdue. (Boost's wait_for polls and can oversleep by seconds.)
  const int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, c.id(), 0));
  std::mutex mu;
  std::condition_variable cv;
  bool exited = false, done = true;
  std::thread watchdog([&] {
    std::unique_lock<std::mutex> lock(mu);
    if (cv.wait_for(lock, std::chrono::minutes(5), [&] { return exited; })) return;
    done = false;
    if (pidfd >= 0) ::syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, nullptr, 0);
  });
  c.wait();
  {
    std::lock_guard<std::mutex> lock(mu);
    exited = true;
  }
  cv.notify_one();
  watchdog.join();
  if (pidfd >= 0) ::close(pidfd);
  r.exit_code = done ? c.exit_code() : -1;
  r.out = ReadText(dir / "out");
  r.err = ReadText(dir / "err");
  if (!done) {
    std::string cmd;
    for (const std::string& a : argv) cmd += " " + a;
    r.err += "\n[harness] killed after 5 minutes:" + cmd + "\n";
    std::fprintf(stderr, "[harness] killed after 5 minutes:%s\n", cmd.c_str());
  }
  std::error_code ec;
  fs::remove_all(dir, ec);
  return r;
}

std::string MissingPrerequisite(const std::vector<std::string>& extra_tools) {
  if (geteuid() != 0) return "needs root (runc and mounts)";
  std::vector<std::string> tools = {"runc", "free", "mpstat", "htop", "tmux", "node", "iostat"};
  tools.insert(tools.end(), extra_tools.begin(), extra_tools.end());
  for (const std::string& tool : tools) {
    const bool found = tool.find('/') != std::string::npos ? fs::exists(tool) : !bp::search_path(tool).empty();
    if (!found) return tool + " is not installed";
  }
  if (!fs::exists("/usr/bin/busybox")) return "busybox-static is not installed";
  return "";
}

bool SkipUnlessReady(const std::vector<std::string>& extra_tools) {
  const std::string missing = MissingPrerequisite(extra_tools);
  return !missing.empty() && prochook::testing::SkipOrFailInCi("end-to-end prerequisite missing: " + missing);
}

std::string DefaultRuntime() {
  const char* env = getenv("PROCHOOK_E2E_RUNTIME");
  return env != nullptr && *env != '\0' ? env : "runc";
}

std::string ProchookBinary() {
  // Bazel runs tests from the runfiles tree, where //:prochook is "prochook".
  return fs::canonical("prochook").string();
}

bool WaitFor(std::chrono::milliseconds timeout, const std::function<bool()>& pred) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return pred();
}

namespace {

std::atomic<int> g_counter{0};

void WriteText(const fs::path& p, const std::string& text) {
  std::ofstream(p, std::ios::trunc) << text;
}

}  // namespace

void MakeRootfs(const std::string& dir) {
  const fs::path root = dir;
  for (const char* d : {"proc", "sys", "dev", "tmp", "etc", "usr", "run", "root"}) {
    fs::create_directories(root / d);
  }
  for (const char* l : {"bin", "lib", "lib64", "sbin"}) {
    fs::create_directory_symlink(std::string("usr/") + l, root / l);
  }
  WriteText(root / "etc/passwd", "root:x:0:0:root:/root:/bin/sh\n");
  WriteText(root / "etc/group", "root:x:0:\n");
}

Container::Container(const Options& o) {
  try {
    Prepare(o);
  } catch (...) {
    std::error_code ec;
    if (!bundle_.empty()) fs::remove_all(bundle_, ec);
    throw;
  }
}

void Container::Prepare(const Options& o) {
  const std::string tag = std::to_string(getpid()) + "-" + std::to_string(g_counter++);
  id_ = o.id.empty() ? "prochook-e2e-" + tag : o.id;
  char tmpl[] = "/tmp/prochook-e2e-XXXXXX";
  REQUIRE(::mkdtemp(tmpl) != nullptr);
  bundle_ = tmpl;
  state_key_ = o.state_key;
  runtime_ = o.runtime;
  runc_root_ = bundle_ + "/runc-root";
  cgroup_parent_ = "prochook-e2e-" + tag;

  MakeRootfs(bundle_ + "/rootfs");

  RunResult spec = Run({"runc", "spec", "--bundle", bundle_});
  REQUIRE_MESSAGE(spec.exit_code == 0, "runc spec: " << spec.err);
  nlohmann::json c = nlohmann::json::parse(std::ifstream(bundle_ + "/config.json"));
  c["process"]["terminal"] = false;
  c["process"]["args"] = {"sleep", "100000"};
  c["process"]["env"] = {"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/root", "TERM=xterm"};
  c["root"] = {{"path", "rootfs"}, {"readonly", true}};
  for (const std::string& drop : o.drop_mounts) {
    auto& m = c["mounts"];
    m.erase(std::remove_if(m.begin(), m.end(), [&](const auto& e) { return e["destination"] == drop; }), m.end());
  }
  for (const auto& [path, entry] : o.rootfs_entries) {
    const fs::path p = fs::path(bundle_) / "rootfs" / path;
    fs::create_directories(p.parent_path());
    if (entry.rfind("->", 0) == 0) {
      fs::create_symlink(entry.substr(2), p);
    } else {
      WriteText(p, entry);
    }
  }
  c["mounts"].push_back({{"destination", "/usr"}, {"type", "bind"}, {"source", "/usr"},
                         {"options", {"rbind", "ro"}}});
  c["mounts"].push_back({{"destination", "/tmp"}, {"type", "tmpfs"}, {"source", "tmpfs"},
                         {"options", {"nosuid", "nodev", "size=512m"}}});
  if (!o.meminfo_bind.empty()) {
    c["mounts"].push_back({{"destination", "/proc/meminfo"}, {"type", "bind"},
                           {"source", o.meminfo_bind}, {"options", {"bind", "ro"}}});
  }
  if (!o.pid_ns.empty()) {
    auto& ns = c["linux"]["namespaces"];
    ns.erase(std::remove_if(ns.begin(), ns.end(), [](const auto& n) { return n["type"] == "pid"; }), ns.end());
    if (o.pid_ns != "host") ns.push_back({{"type", "pid"}, {"path", o.pid_ns}});
  }
  c["linux"]["cgroupsPath"] = "/" + cgroup_parent_ + "/" + id_;
  c["linux"]["resources"] = nlohmann::json::object();
  if (o.memory_limit != 0) c["linux"]["resources"]["memory"] = {{"limit", o.memory_limit}};
  if (!o.cpus.empty()) c["linux"]["resources"]["cpu"]["cpus"] = o.cpus;
  if (o.cpu_quota_us != 0) {
    c["linux"]["resources"]["cpu"]["quota"] = o.cpu_quota_us;
    c["linux"]["resources"]["cpu"]["period"] = 100000;
  }
  if (o.cgroup_ns >= 0) {
    auto& ns = c["linux"]["namespaces"];
    ns.erase(std::remove_if(ns.begin(), ns.end(), [](const auto& n) { return n["type"] == "cgroup"; }), ns.end());
    if (o.cgroup_ns == 1) ns.push_back({{"type", "cgroup"}});
  }
  for (const auto& [dest, source] : o.binds) {
    c["mounts"].push_back({{"destination", dest}, {"type", "bind"}, {"source", source},
                           {"options", {"rbind", "rw"}}});
  }
  if (!o.annotations.empty()) c["annotations"] = o.annotations;
  if (!o.seccomp.is_null()) c["linux"]["seccomp"] = o.seccomp;
  if (!o.hook_stage.empty()) {
    auto hook = [](const std::vector<std::string>& command) -> nlohmann::json {
      if (command.empty()) return {{"path", ProchookBinary()}, {"args", {"prochook", "hook"}}};
      return {{"path", command[0]}, {"args", std::vector<std::string>(command.begin() + 1, command.end())}};
    };
    nlohmann::json create = hook(o.hook_command);
    if (o.hook_timeout_s > 0) create["timeout"] = o.hook_timeout_s;
    c["hooks"] = {{o.hook_stage, {create}}, {"poststop", {hook(o.poststop_command)}}};
  }
  WriteText(bundle_ + "/config.json", c.dump(2));
}

std::vector<std::string> Container::Runc(const std::vector<std::string>& args) const {
  std::vector<std::string> v = {runtime_, "--root", runc_root_};
  v.insert(v.end(), args.begin(), args.end());
  return v;
}

RunResult Container::Start() {
  // Detached with stdio on /dev/null: the test reads through `runc exec`.
  return Run(Runc({"run", "-d", "--bundle", bundle_, id_}));
}

RunResult Container::Exec(const std::vector<std::string>& argv) const {
  std::vector<std::string> v = Runc({"exec", id_});
  v.insert(v.end(), argv.begin(), argv.end());
  return Run(v);
}

std::string Container::CgroupDir(const std::string& controller) const {
  return ParentCgroupDir(controller) + "/" + id_;
}

std::string Container::ParentCgroupDir(const std::string& controller) const {
  if (UnifiedCgroups()) return "/sys/fs/cgroup/" + cgroup_parent_;
  return "/sys/fs/cgroup/" + controller + "/" + cgroup_parent_;
}

bool UnifiedCgroups() {
  struct statfs st;
  return ::statfs("/sys/fs/cgroup", &st) == 0 && st.f_type == CGROUP2_SUPER_MAGIC;
}

int Container::InitPid() const {
  RunResult s = Run(Runc({"state", id_}));
  if (s.exit_code != 0) return 0;
  auto j = nlohmann::json::parse(s.out, nullptr, false);
  if (j.is_discarded() || !j.contains("pid")) return 0;
  return j["pid"].get<int>();
}

void Container::Stop() {
  if (stopped_) return;
  stopped_ = true;
  const int pid = InitPid();
  Run(Runc({"kill", id_, "KILL"}));
  if (pid > 0) WaitFor(std::chrono::seconds(5), [&] { return !fs::exists("/proc/" + std::to_string(pid)); });
  Run(Runc({"delete", "--force", id_}));
}

Container::~Container() {
  Stop();
  RemoveCgroups(cgroup_parent_);
  std::error_code ec;
  fs::remove_all(bundle_, ec);
}

int RenderersOf(const std::string& state_dir) {
  int n = 0;
  std::error_code ec;
  for (const auto& p : fs::directory_iterator("/proc", ec)) {
    std::string cmdline = ReadText((p.path() / "cmdline").string());
    std::replace(cmdline.begin(), cmdline.end(), '\0', ' ');
    n += cmdline.find(" --state-dir " + state_dir + " ") != std::string::npos;
  }
  return n;
}

prochook::MountInfo HostMountHolding(const std::string& path) {
  prochook::MountInfo holder;
  for (const auto& m : prochook::ParseMountinfo(ReadText("/proc/self/mountinfo"))) {
    const bool holds = m.mount_point == "/" || path == m.mount_point || path.rfind(m.mount_point + "/", 0) == 0;
    if (holds && m.mount_point.size() >= holder.mount_point.size()) holder = m;
  }
  return holder;
}

std::vector<std::string> StateDirMounts(const std::string& state_dir, const std::string& mountinfo_path) {
  const prochook::MountInfo store = HostMountHolding(fs::path(state_dir).parent_path().string());
  // A mount's root is its file's path in that filesystem: it holds
  // "/<state dir name>/" on the XFS store and on a plain run dir. (Other
  // mounts, such as the container's cgroups, may hold the name too.)
  const std::string dir = "/" + fs::path(state_dir).filename().string() + "/";
  std::vector<std::string> points;
  for (const auto& m : prochook::ParseMountinfo(ReadText(mountinfo_path))) {
    if (m.fs_type == store.fs_type && m.source == store.source && m.root.find(dir) != std::string::npos) {
      points.push_back(m.mount_point);
    }
  }
  return points;
}

std::vector<std::string> ServedMounts(const Container& c) {
  const int init = c.InitPid();
  if (init <= 0) return {};
  return StateDirMounts(c.state_dir(), "/proc/" + std::to_string(init) + "/mountinfo");
}

void RequireServed(const Container& c) {
  std::string state = "missing";
  RunResult ps;
  WaitFor(std::chrono::seconds(5), [&] {
    ps = Run({ProchookBinary(), "ps", "--json"});
    auto j = nlohmann::json::parse(ps.out, nullptr, false);
    if (j.is_discarded()) return false;
    for (const auto& e : j["containers"]) {
      if (e["id"] == c.id()) state = e["state"].get<std::string>();
    }
    return state == "serving" || state == "idle";
  });
  INFO("prochook ps --json: " << ps.out << ps.err);
  REQUIRE_MESSAGE((state == "serving" || state == "idle"), c.id() << " is not served: prochook ps says " << state);
  struct stat st {};
  const std::string file = c.state_dir() + "/meminfo";
  REQUIRE_MESSAGE(::stat(file.c_str(), &st) == 0, file << ": " << std::strerror(errno));
  const RunResult inside = c.Exec({"stat", "-c", "%d:%i", "/proc/meminfo"});
  REQUIRE_MESSAGE(inside.out == std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino) + "\n",
                  "the container's /proc/meminfo (" << inside.out << inside.err << ", exit " << inside.exit_code
                                                    << ") is not " << file);
  const std::vector<std::string> mounts = ServedMounts(c);
  REQUIRE_MESSAGE(std::count(mounts.begin(), mounts.end(), "/proc/meminfo") == 1,
                  "prochook's /proc/meminfo mount is not in the container's mountinfo");
}

void RemoveCgroups(const std::string& name) {
  auto remove_all = [&] {
    bool left = false;
    std::error_code ec;
    // v1: a tree of that name in every hierarchy; unified: one tree.
    std::vector<fs::path> hierarchies = {"/sys/fs/cgroup"};
    if (!UnifiedCgroups()) {
      hierarchies.clear();
      for (const auto& h : fs::directory_iterator("/sys/fs/cgroup", ec)) hierarchies.push_back(h.path());
    }
    for (const fs::path& h : hierarchies) {
      const fs::path top = h / name;
      if (!fs::exists(top)) continue;
      std::vector<fs::path> dirs;
      for (const auto& e : fs::recursive_directory_iterator(top, ec)) {
        if (e.is_directory()) dirs.push_back(e.path());
      }
      std::sort(dirs.begin(), dirs.end(), [](auto& a, auto& b) { return a.string().size() > b.string().size(); });
      dirs.push_back(top);
      for (const auto& d : dirs) left = (::rmdir(d.c_str()) != 0 && errno != ENOENT) || left;
    }
    return !left;
  };
  WaitFor(std::chrono::seconds(5), remove_all);
}

std::map<std::string, uint64_t> MeminfoFields(const std::string& text) {
  std::map<std::string, uint64_t> out;
  std::istringstream in(text);
  std::string key;
  uint64_t value;
  while (in >> key >> value) {
    if (!key.empty() && key.back() == ':') key.pop_back();
    out[key] = value;
    in.ignore(1 << 20, '\n');
  }
  return out;
}

}  // namespace prochook::e2e
