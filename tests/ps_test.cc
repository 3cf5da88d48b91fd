#include <doctest/doctest.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "common/proc.h"
#include "hook/ps.h"
#include "state/record.h"
#include "state/state_dir.h"
#include "tests/testing.h"

using namespace prochook;
using prochook::testing::TempDir;

using prochook::testing::Sleeper;

namespace {

std::string RecordFor(const std::string& id, pid_t pid, uint64_t start) {
  ContainerRecord r;
  r.id = id;
  r.pid = pid;
  r.pid_start = start;
  r.interval_ms = 1000;
  r.files = {"meminfo", "stat"};
  r.cgroups["memory"] = {1, "/sys/fs/cgroup/memory/ct", "/sys/fs/cgroup/memory"};
  return SerializeRecord(r);
}

void SetMtime(const std::string& path, time_t when) {
  struct timespec ts[2] = {{when, 0}, {when, 0}};
  REQUIRE(::utimensat(AT_FDCWD, path.c_str(), ts, 0) == 0);
}

}  // namespace

TEST_CASE("ListServed tells serving, stale, renderer-dead, container-gone and broken apart") {
  TempDir t;
  const uint64_t self_start = ReadProcessStartTime(getpid()).value();
  Sleeper renderer;
  Sleeper gone;
  const pid_t gone_pid = gone.pid;
  const uint64_t gone_start = ReadProcessStartTime(gone_pid).value();
  gone.Kill();

  t.Write({{"a-serving/" + std::string(kRecordFile), RecordFor("a-serving", getpid(), self_start)},
           {"b-stale/" + std::string(kRecordFile), RecordFor("b-stale", getpid(), self_start)},
           {"c-dead/" + std::string(kRecordFile), RecordFor("c-dead", getpid(), self_start)},
           {"d-gone/" + std::string(kRecordFile), RecordFor("d-gone", gone_pid, gone_start)},
           {"e-broken/" + std::string(kRecordFile), "{not json"},
           {"f-idle/" + std::string(kRecordFile), RecordFor("f-idle", getpid(), self_start)},
           {"g-failing/" + std::string(kRecordFile), RecordFor("g-failing", getpid(), self_start)},
           {"g-failing/" + std::string(kProblemsFile), "meminfo: read: Input/output error\nCPU view: kept   \n"},
           {"hook.log", "a file, not a container\n"}});
  REQUIRE(WriteRendererPid(t.path() + "/a-serving", renderer.pid).ok());
  REQUIRE(WriteRendererPid(t.path() + "/b-stale", renderer.pid).ok());
  REQUIRE(WriteRendererPid(t.path() + "/f-idle", renderer.pid).ok());
  REQUIRE(WriteRendererPid(t.path() + "/g-failing", renderer.pid).ok());
  const auto now = std::chrono::system_clock::now();
  const time_t now_s = std::chrono::system_clock::to_time_t(now);
  SetMtime(t.path() + "/a-serving", now_s);
  SetMtime(t.path() + "/b-stale", now_s - 3600);
  SetMtime(t.path() + "/f-idle", now_s - 8);  // idle mode: refreshed every 10 s

  auto list = ListServed(t.path(), now);
  REQUIRE(list.size() == 7);
  CHECK(list[0].id == "a-serving");
  CHECK(list[0].state == "serving");
  CHECK(list[0].renderer_pid == renderer.pid);
  CHECK(list[0].init_alive);
  CHECK(list[0].refreshed_ago_s.value() < 2.0);
  CHECK(list[0].cgroup == "/sys/fs/cgroup/memory/ct");
  CHECK(list[0].files == std::vector<std::string>{"meminfo", "stat"});
  CHECK(list[1].state == "stale");
  CHECK(list[1].refreshed_ago_s.value() > 3000);
  CHECK(list[2].state == "renderer-dead");
  CHECK_FALSE(list[2].renderer_pid.has_value());
  CHECK(list[3].state == "container-gone");
  CHECK(list[4].state == "broken");
  CHECK_FALSE(list[4].problem.empty());
  CHECK(list[5].state == "idle");
  CHECK(list[5].idle_ms == 10000);
  // Refreshed just now, but the renderer reports problems.
  CHECK(list[6].state == "failing");
  CHECK(list[6].problems == std::vector<std::string>{"meminfo: read: Input/output error", "CPU view: kept"});
  CHECK(list[6].problem == "meminfo: read: Input/output error; CPU view: kept");
  CHECK(RenderPsTable("xfs", {list[6]}).find(" failing: meminfo: read: Input/output error; CPU view: kept ") !=
        std::string::npos);
  auto j = nlohmann::json::parse(RenderPsJson("xfs", {list[6]}));
  CHECK(j["containers"][0]["state"] == "failing");
  CHECK(j["containers"][0]["problems"] == nlohmann::json({"meminfo: read: Input/output error", "CPU view: kept"}));
  CHECK_FALSE(nlohmann::json::parse(RenderPsJson("xfs", {list[0]}))["containers"][0].contains("problems"));
  CHECK(ListServed(t.path() + "/missing", now).empty());
}

TEST_CASE("RenderPsTable aligns columns; RenderPsJson round-trips") {
  ServedContainer a;
  a.id = "web";
  a.init_pid = 4242;
  a.init_alive = true;
  a.cgroup = "/sys/fs/cgroup/memory/web";
  a.files = {"meminfo", "stat"};
  a.renderer_pid = 77;
  a.state = "serving";
  a.refreshed_ago_s = 0.25;
  a.interval_ms = 1000;
  a.clock = "own";
  a.sysinfo = "agent 78";
  ServedContainer b;
  b.id = "a-much-longer-container-id";
  b.state = "broken";
  b.problem = "state.json: bad";
  CHECK(RenderPsTable("xfs (tear-free)", {a, b}) ==
        "store: xfs (tear-free)\n"
        "ID                          PID   STATE                    RENDERER  REFRESHED  INTERVAL  CLOCK  SYSINFO   "
        "FILES         CGROUP\n"
        "web                         4242  serving                  77        0.2s ago   1000ms    own    agent 78  "
        "meminfo,stat  /sys/fs/cgroup/memory/web\n"
        "a-much-longer-container-id  -     broken: state.json: bad  -         -          -         -      -         "
        "-             -\n");
  CHECK(RenderPsTable("tmpfs (updates may tear)", {}) ==
        "store: tmpfs (updates may tear)\nID  PID  STATE  RENDERER  REFRESHED  INTERVAL  CLOCK  SYSINFO  FILES  CGROUP\n");

  auto j = nlohmann::json::parse(RenderPsJson("xfs (tear-free)", {a, b}));
  CHECK(j["store"] == "xfs (tear-free)");
  REQUIRE(j["containers"].size() == 2);
  CHECK(j["containers"][0]["id"] == "web");
  CHECK(j["containers"][0]["renderer_pid"] == 77);
  CHECK(j["containers"][0]["refreshed_ago_s"] == 0.25);
  CHECK(j["containers"][0]["files"][1] == "stat");
  CHECK(j["containers"][0]["clock"] == "own");
  CHECK(j["containers"][0]["sysinfo"] == "agent 78");
  CHECK_FALSE(j["containers"][0].contains("problem"));
  CHECK(j["containers"][1]["renderer_pid"].is_null());
  CHECK(j["containers"][1]["problem"] == "state.json: bad");
}

TEST_CASE("ps shows a renderer that runs without Landlock as unsandboxed, with the reason") {
  TempDir t;
  const uint64_t self_start = ReadProcessStartTime(getpid()).value();
  Sleeper renderer;
  t.Write({{"a/" + std::string(kRecordFile), RecordFor("a", getpid(), self_start)},
           {"a/" + std::string(kUnsandboxedFile), "Landlock is disabled on this host\n"},
           {"b/" + std::string(kRecordFile), RecordFor("b", getpid(), self_start)}});
  REQUIRE(WriteRendererPid(t.path() + "/a", renderer.pid).ok());
  REQUIRE(WriteRendererPid(t.path() + "/b", renderer.pid).ok());
  const auto list = ListServed(t.path(), std::chrono::system_clock::now());
  REQUIRE(list.size() == 2);
  CHECK(list[0].state == "serving");
  CHECK(list[0].unsandboxed == "Landlock is disabled on this host");
  CHECK(list[1].unsandboxed.empty());
  const std::string table = RenderPsTable("xfs (tear-free)", list);
  CHECK(table.find(" serving, unsandboxed: Landlock is disabled on this host ") != std::string::npos);
  auto j = nlohmann::json::parse(RenderPsJson("xfs (tear-free)", list));
  CHECK(j["containers"][0]["state"] == "serving");
  CHECK(j["containers"][0]["unsandboxed"] == "Landlock is disabled on this host");
  CHECK_FALSE(j["containers"][1].contains("unsandboxed"));
}

TEST_CASE("ListServed shows the id from state.json: two containers with one id are two entries") {
  TempDir t;
  const uint64_t self_start = ReadProcessStartTime(getpid()).value();
  const std::string a = StateDirPath(t.path(), "web", "/run/a/web");
  const std::string b = StateDirPath(t.path(), "web", "/run/b/web");
  REQUIRE(a != b);
  t.Write({{a.substr(t.path().size() + 1) + "/" + kRecordFile, RecordFor("web", getpid(), self_start)},
           {b.substr(t.path().size() + 1) + "/" + kRecordFile, RecordFor("web", getpid(), self_start)}});
  auto list = ListServed(t.path(), std::chrono::system_clock::now());
  REQUIRE(list.size() == 2);
  CHECK(list[0].id == "web");
  CHECK(list[1].id == "web");
}

TEST_CASE("ps shows each container's clock and who answers its sysinfo, and uptime only where it is rendered") {
  TempDir t;
  const uint64_t self_start = ReadProcessStartTime(getpid()).value();
  Sleeper renderer;
  Sleeper agent;
  ContainerRecord own;
  own = ParseRecord(RecordFor("a-own", getpid(), self_start)).value();
  own.clock_offset_s = -24880;
  own.files = {"meminfo", "uptime"};
  own.container_uptime = false;  // the kernel's uptime is the container's
  ContainerRecord host = own;
  host.id = "b-host";
  host.clock_offset_s = 0;
  host.container_uptime = true;  // io.prochook.uptime=container in hook mode
  t.Write({{"a/" + std::string(kRecordFile), SerializeRecord(own)},
           {"b/" + std::string(kRecordFile), SerializeRecord(host)},
           {"c/" + std::string(kRecordFile), RecordFor("c-agent-dead", getpid(), self_start)},
           {"c/" + std::string(kAgentPidFile), "999999999 1\n"}});
  for (const char* d : {"a", "b", "c"}) REQUIRE(WriteRendererPid(t.path() + "/" + d, renderer.pid).ok());
  REQUIRE(WritePidFile(t.path() + "/a", kAgentPidFile, agent.pid).ok());
  const auto list = ListServed(t.path(), std::chrono::system_clock::now());
  REQUIRE(list.size() == 3);
  CHECK(list[0].clock == "own");
  CHECK(list[0].sysinfo == "agent " + std::to_string(agent.pid));
  CHECK(list[0].files == std::vector<std::string>{"meminfo"});
  CHECK(list[1].clock == "host");
  CHECK(list[1].sysinfo == "kernel");
  CHECK(list[1].files == std::vector<std::string>{"meminfo", "uptime"});
  CHECK(list[2].sysinfo == "agent-dead");
  const std::string table = RenderPsTable("xfs", list);
  CHECK(table.find(" own    agent " + std::to_string(agent.pid) + " ") != std::string::npos);
}
