// The container's own clock: which containers get a time namespace, how the
// wrapper finds the container a runtime command is about, and that prochook
// reads start times in the host's clock from inside any time namespace.
#include <doctest/doctest.h>
#include <sched.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>

#include "common/io.h"
#include "common/proc.h"
#include "common/timens.h"
#include "oci/config.h"
#include "oci/options.h"
#include "oci/runtime_args.h"
#include "oci/runtime_state.h"
#include "oci/timens_plan.h"
#include "tests/testing.h"

using namespace prochook;
using Kind = TimeNamespacePlan::Kind;

namespace {

OciConfig Config(const std::string& namespaces, const std::string& annotations = "{}") {
  auto c = ParseConfig(R"({"root":{"path":"rootfs"},"annotations":)" + annotations +
                       R"(,"linux":{"namespaces":)" + namespaces + "}}");
  REQUIRE(c.ok());
  return *c;
}

TimeNamespacePlan Plan(const std::string& namespaces, const std::string& annotations = "{}") {
  OciConfig c = Config(namespaces, annotations);
  return PlanTimeNamespace(c, ParseOptions(c.annotations));
}

}  // namespace

TEST_CASE("timens plan: a pid namespace of its own gets a new clock; the host's, a time entry or off do not") {
  CHECK(Plan(R"([{"type":"pid"},{"type":"mount"}])").kind == Kind::kNew);
  const TimeNamespacePlan host = Plan(R"([{"type":"mount"},{"type":"network"}])");
  CHECK(host.kind == Kind::kNone);
  CHECK(host.why.find("host's pid namespace") != std::string::npos);
  CHECK(Plan(R"([{"type":"pid"},{"type":"time"}])").kind == Kind::kNone);
  CHECK(Plan(R"([{"type":"pid"}])", R"({"io.prochook.timens":"off"})").kind == Kind::kNone);
  CHECK(Plan(R"([{"type":"pid"}])", R"({"io.prochook.timens":"on"})").kind == Kind::kNew);
  CHECK(Plan(R"([{"type":"pid"}])", R"({"io.prochook.disable":"true"})").kind == Kind::kNone);
  // A typo keeps the default (and warns through ParseOptions).
  CHECK(Plan(R"([{"type":"pid"}])", R"({"io.prochook.timens":"no"})").kind == Kind::kNew);
  CHECK(ParseOptions({{"io.prochook.timens", "no"}}).warnings.size() == 1);
}

TEST_CASE("timens plan: a shared pid namespace joins the clock of the process that names it") {
  const TimeNamespacePlan pod = Plan(R"([{"type":"pid","path":"/proc/4242/ns/pid"}])");
  CHECK(pod.kind == Kind::kJoin);
  CHECK(pod.join_pid == 4242);
  // A path that names no process (a bind-mounted nsfs file): the host's clock.
  CHECK(Plan(R"([{"type":"pid","path":"/run/netns/x"}])").kind == Kind::kNone);
  CHECK(Plan(R"([{"type":"pid","path":"/proc/self/ns/pid"}])").kind == Kind::kNone);
  CHECK(Plan(R"([{"type":"pid","path":"/proc/0/ns/pid"}])").kind == Kind::kNone);
  CHECK(Plan(R"([{"type":"pid","path":"/proc/12/ns/net"}])").kind == Kind::kNone);
  // An empty path is a new namespace (runtime-spec).
  CHECK(Plan(R"([{"type":"pid","path":""}])").kind == Kind::kNew);
}

TEST_CASE("runtime args: the state root and the operands of every command") {
  RuntimeCommand exec = ParseRuntimeCommand({"--root", "/var/run/docker/runtime-runc/moby", "--log", "l.json",
                                             "--log-format", "json", "exec", "--process", "/tmp/p.json",
                                             "--detach", "--pid-file", "/x/pid", "abc"});
  CHECK(exec.command == "exec");
  CHECK(exec.root == "/var/run/docker/runtime-runc/moby");
  CHECK(exec.operands == std::vector<std::string>{"abc"});
  // runc exec ID CMD ARGS: the process's flags are its own.
  RuntimeCommand ls = ParseRuntimeCommand({"--root=/r", "exec", "-t", "--cwd", "/tmp", "web", "ls", "-l"});
  CHECK(ls.root == "/r");
  CHECK(ls.operands == std::vector<std::string>{"web", "ls", "-l"});
  CHECK(ParseRuntimeCommand({"kill", "--all", "web", "KILL"}).operands == std::vector<std::string>{"web", "KILL"});
  CHECK(ParseRuntimeCommand({"update", "--memory", "100M", "--resources", "-", "web"}).operands ==
        std::vector<std::string>{"web"});
  CHECK(ParseRuntimeCommand({"delete", "--force", "--", "-odd"}).operands == std::vector<std::string>{"-odd"});
  CHECK_FALSE(ParseRuntimeCommand({"state", "web"}).root.has_value());
}

TEST_CASE("runtime state: the init runc and crun recorded") {
  // runc 1.1.5's state.json (abridged).
  auto runc = ParseRuntimeInit(R"({"id":"web","init_process_pid":4242,"init_process_start":61,
      "created":"2026-12-01T01:39:08Z","config":{"rootfs":"/r"}})");
  REQUIRE(runc.has_value());
  CHECK(runc->pid == 4242);
  CHECK(runc->start == 61u);
  // crun 1.8.1's status.
  auto crun = ParseRuntimeInit(R"({"pid":7419,"process-start-time":79,"cgroup-path":"/tn2","bundle":"/tmp/tn"})");
  REQUIRE(crun.has_value());
  CHECK(crun->pid == 7419);
  CHECK(crun->start == 79u);
  CHECK_FALSE(ParseRuntimeInit(R"({"init_process_pid":0})").has_value());
  CHECK_FALSE(ParseRuntimeInit(R"({"init_process_pid":-3})").has_value());
  CHECK_FALSE(ParseRuntimeInit("not json").has_value());
  CHECK_FALSE(ParseRuntimeInit(R"({"pid":"12"})").has_value());
  CHECK(ParseRuntimeInit(R"({"pid":12})")->start == std::nullopt);
  CHECK(DefaultRuntimeRoot("/usr/bin/crun") == "/run/crun");
  CHECK(DefaultRuntimeRoot("runc") == "/run/runc");
  // An operand that is no valid id never becomes a path.
  CHECK_FALSE(FindRuntimeInit("/run/runc", "../../etc").has_value());
}

TEST_CASE("timens offsets: the boottime line, in ticks") {
  CHECK(ParseBoottimeOffset("monotonic           0         0\nboottime       -24880         0\n") ==
        ClockOffset{-24880, 0});
  CHECK(ParseBoottimeOffset("1 0 0\n7 -5 250000000\n") == ClockOffset{-5, 250000000});
  CHECK(ParseBoottimeOffset("") == ClockOffset{});
  CHECK(ParseBoottimeOffset("boottime x 0\n") == ClockOffset{});
  CHECK(OffsetTicks({-24880, 0}, 100) == -2488000);
  CHECK(OffsetTicks({-5, 250000000}, 100) == -475);
}

TEST_CASE("timens: inside a container's clock, a process older than its zero reads wrong; EnterHostClock reads right") {
  if (geteuid() != 0 && prochook::testing::SkipOrFailInCi("needs root for a time namespace")) return;
  // A process that surely started before the clock's zero (whole seconds
  // before now).
  const pid_t old = getpid();
  const uint64_t outside = ReadProcessStartTime(old).value();
  while (ReadProcessStartTime(old).value() / 100 + 2 > static_cast<uint64_t>(
                                                          std::stod(ReadFile("/proc/uptime").value()))) {
    ::usleep(100000);
  }
  int pipefd[2];
  REQUIRE(::pipe(pipefd) == 0);
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    if (!UnshareTimeNamespaceFromNow()) _exit(2);
    const pid_t inner = ::fork();
    if (inner == 0) {
      // As a hook the runtime starts in the container's clock.
      auto before = ReadProcessStartTime(old);
      auto moved = EnterHostClock();
      auto after = ReadProcessStartTime(old);
      const std::string line = std::to_string(before ? *before : 0) + " " + std::to_string(moved && *moved) + " " +
                               std::to_string(after ? *after : 0) + " " + std::to_string(BoottimeOffset(0).sec) +
                               "\n";
      (void)!::write(pipefd[1], line.data(), line.size());
      _exit(0);
    }
    int status = 0;
    ::waitpid(inner, &status, 0);
    _exit(WIFEXITED(status) ? WEXITSTATUS(status) : 3);
  }
  ::close(pipefd[1]);
  char buf[256] = {};
  const ssize_t n = ::read(pipefd[0], buf, sizeof buf - 1);
  ::close(pipefd[0]);
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  REQUIRE(WIFEXITED(status));
  REQUIRE(WEXITSTATUS(status) == 0);
  REQUIRE(n > 0);
  unsigned long long before = 0, after = 0;
  int moved = 0;
  long long offset = -1;
  REQUIRE(std::sscanf(buf, "%llu %d %llu %lld", &before, &moved, &after, &offset) == 4);
  INFO("outside " << outside << "; inside: before " << before << ", moved " << moved << ", after " << after);
  // The kernel's figure for a process older than the clock's zero wraps:
  // no offset undoes it.
  CHECK(before != outside);
  CHECK(moved == 1);
  CHECK(offset == 0);
  CHECK(after == outside);
}
