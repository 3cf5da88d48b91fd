#include "hook/ps.h"

#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "common/io.h"
#include "common/proc.h"
#include "common/text.h"
#include "state/record.h"
#include "state/state_dir.h"
#include "state/store.h"

namespace prochook {
namespace {

std::string Join(const std::vector<std::string>& v, const char* sep) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : sep) + s;
  return out;
}

// The renderer's problems file (state/record.h), a line each (trimmed: a
// line may end in blanks while the renderer shortens the file in place).
std::vector<std::string> ReadProblems(const std::string& dir) {
  auto text = ReadFile(dir + "/" + kProblemsFile, 64 << 10);
  return text ? SplitToStrings(*text, '\n') : std::vector<std::string>();
}

// `name` is the directory's: the id, shortened, and a hash (StateDirName).
ServedContainer Inspect(const std::string& dir, const std::string& name,
                        std::chrono::system_clock::time_point now) {
  ServedContainer c;
  c.id = name;
  auto record = LoadRecord(dir);
  if (record) c.id = record->id;
  if (!record) {
    c.state = "broken";
    c.problem = record.error().message();
    return c;
  }
  c.init_pid = record->pid;
  auto start = ReadProcessStartTime(record->pid);
  c.init_alive = start && *start == record->pid_start;
  for (const std::string& f : record->files) {
    if (f != "uptime" || record->container_uptime) c.files.push_back(f);
  }
  c.clock = record->own_clock() ? "own" : "host";
  if (auto agent = LiveAgentPid(dir)) {
    c.sysinfo = "agent " + std::to_string(*agent);
  } else {
    struct stat pidfile;
    c.sysinfo = ::stat((dir + "/" + kAgentPidFile).c_str(), &pidfile) == 0 ? "agent-dead" : "kernel";
  }
  c.interval_ms = record->interval_ms;
  c.idle_ms = record->idle_ms;
  auto memory = record->cgroups.find("memory");
  if (memory != record->cgroups.end() && memory->second.present()) {
    c.cgroup = memory->second.dir;
  } else {
    for (const auto& [controller, cg] : record->cgroups) {
      if (cg.present()) {
        c.cgroup = cg.dir;
        break;
      }
    }
  }
  c.renderer_pid = LiveRendererPid(dir);
  if (auto why = ReadFile(dir + "/" + kUnsandboxedFile, 4096)) c.unsandboxed = std::string(Trim(*why));
  struct stat st;
  if (::stat(dir.c_str(), &st) == 0) {
    const auto mtime = std::chrono::system_clock::time_point(
        std::chrono::seconds(st.st_mtim.tv_sec) + std::chrono::nanoseconds(st.st_mtim.tv_nsec));
    c.refreshed_ago_s = std::max(0.0, std::chrono::duration<double>(now - mtime).count());
  }
  c.problems = ReadProblems(dir);
  if (!c.init_alive) {
    c.state = "container-gone";
  } else if (!c.renderer_pid) {
    c.state = "renderer-dead";
  } else if (!c.problems.empty()) {
    c.state = "failing";
    c.problem = Join(c.problems, "; ");
  } else if (const double ago = c.refreshed_ago_s.value_or(0), interval = c.interval_ms / 1000.0;
             c.idle_ms > 0 && ago > 2 * interval + 0.5) {
    // Idle mode: one refresh per idle period while nobody reads.
    c.state = ago <= c.idle_ms / 1000.0 + 2 * interval + 1 ? "idle" : "stale";
  } else if (c.idle_ms == 0 && ago > 3 * interval + 1) {
    c.state = "stale";
  } else {
    c.state = "serving";
  }
  return c;
}

}  // namespace

std::vector<ServedContainer> ListServed(const std::string& run_dir,
                                        std::chrono::system_clock::time_point now) {
  std::vector<ServedContainer> out;
  DIR* d = ::opendir(run_dir.c_str());
  if (d == nullptr) return out;
  std::vector<std::string> names;
  while (struct dirent* e = ::readdir(d)) {
    if (e->d_type == DT_DIR && ValidateContainerId(e->d_name)) names.push_back(e->d_name);
  }
  ::closedir(d);
  for (const auto& name : names) out.push_back(Inspect(run_dir + "/" + name, name, now));
  std::stable_sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
  return out;
}

std::string RenderPsTable(const std::string& store, const std::vector<ServedContainer>& list) {
  std::vector<std::vector<std::string>> rows = {
      {"ID", "PID", "STATE", "RENDERER", "REFRESHED", "INTERVAL", "CLOCK", "SYSINFO", "FILES", "CGROUP"}};
  for (const auto& c : list) {
    char ago[32] = "-";
    if (c.refreshed_ago_s) std::snprintf(ago, sizeof ago, "%.1fs ago", *c.refreshed_ago_s);
    rows.push_back({c.id, c.init_pid ? std::to_string(c.init_pid) : "-",
                    c.state + (c.problem.empty() ? "" : ": " + c.problem) +
                        (c.unsandboxed.empty() ? "" : ", unsandboxed: " + c.unsandboxed),
                    c.renderer_pid ? std::to_string(*c.renderer_pid) : "-", ago,
                    c.interval_ms ? std::to_string(c.interval_ms) + "ms" : "-",
                    c.clock.empty() ? "-" : c.clock, c.sysinfo.empty() ? "-" : c.sysinfo,
                    c.files.empty() ? "-" : Join(c.files, ","), c.cgroup.empty() ? "-" : c.cgroup});
  }
  std::vector<size_t> width(rows[0].size(), 0);
  for (const auto& r : rows) {
    for (size_t i = 0; i < r.size(); ++i) width[i] = std::max(width[i], r[i].size());
  }
  std::string out = "store: " + store + "\n";
  for (const auto& r : rows) {
    std::string line;
    for (size_t i = 0; i < r.size(); ++i) {
      line += r[i];
      if (i + 1 < r.size()) line += std::string(width[i] - r[i].size() + 2, ' ');
    }
    out += line + "\n";
  }
  return out;
}

std::string RenderPsJson(const std::string& store, const std::vector<ServedContainer>& list) {
  nlohmann::json arr = nlohmann::json::array();
  for (const auto& c : list) {
    nlohmann::json j = {{"id", c.id},
                        {"init_pid", c.init_pid},
                        {"init_alive", c.init_alive},
                        {"state", c.state},
                        {"renderer_pid", c.renderer_pid ? nlohmann::json(*c.renderer_pid) : nlohmann::json()},
                        {"refreshed_ago_s",
                         c.refreshed_ago_s ? nlohmann::json(*c.refreshed_ago_s) : nlohmann::json()},
                        {"interval_ms", c.interval_ms},
                        {"idle_ms", c.idle_ms},
                        {"clock", c.clock},
                        {"sysinfo", c.sysinfo},
                        {"files", c.files},
                        {"cgroup", c.cgroup}};
    if (!c.problem.empty()) j["problem"] = c.problem;
    if (!c.unsandboxed.empty()) j["unsandboxed"] = c.unsandboxed;
    if (!c.problems.empty()) j["problems"] = c.problems;
    arr.push_back(std::move(j));
  }
  return nlohmann::json({{"store", store}, {"containers", arr}}).dump(2) + "\n";
}

int RunPs(const std::vector<std::string>& args) {
  std::string run_dir = kDefaultRunDir;
  bool json = false;
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--json") {
      json = true;
    } else if (args[i] == "--run-dir" && i + 1 < args.size()) {
      run_dir = args[++i];
    } else {
      fprintf(stderr, "usage: prochook ps [--json] [--run-dir DIR]\n");
      return 2;
    }
  }
  const auto list = ListServed(run_dir, std::chrono::system_clock::now());
  const std::string store = DescribeStore(run_dir);
  fputs((json ? RenderPsJson(store, list) : RenderPsTable(store, list)).c_str(), stdout);
  return 0;
}

}  // namespace prochook
