// The NRI plugin's hooks on a real container: prochook-nri, started the
// way a runtime starts it (a connected socket, NRI_PLUGIN_* and nothing
// else, its configuration naming the prochook under test), answers
// CreateContainer; the hooks (and the seccomp policy) it returns go into
// the container's config.json as NRI's adaptation would put them, and
// runc runs the container. No containerd here has NRI (Debian 12's is
// 1.6), so this test plays the runtime's part of the protocol
// (tests/nri_harness.h).
#include <doctest/doctest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "nri/seccomp.h"
#include "tests/e2e/harness.h"
#include "tests/e2e/sysinfo_calls.h"
#include "tests/nri_harness.h"

using namespace prochook;
using namespace prochook::e2e;
using namespace prochook::nri::testing;
using namespace std::chrono_literals;

namespace {

constexpr uint64_t kLimit = 256ull << 20;

std::vector<std::string> Command(const prochook::nri::api::Hook& hook) {
  std::vector<std::string> command = {hook.path()};
  command.insert(command.end(), hook.args().begin(), hook.args().end());
  return command;
}

// A container's config as NRI's adaptation makes it from the adjustment:
// the createRuntime and poststop hooks added, linux.seccomp replaced by
// the policy (field for field; NRI leaves out defaultErrnoRet, which the
// plugin never sends changed).
Container::Options AsNriApplies(const prochook::nri::api::ContainerAdjustment& adjust, const std::string& id) {
  REQUIRE(adjust.hooks().create_runtime_size() == 1);
  REQUIRE(adjust.hooks().poststop_size() == 1);
  Container::Options o;
  o.id = id;
  o.hook_command = Command(adjust.hooks().create_runtime(0));
  o.hook_timeout_s = int(adjust.hooks().create_runtime(0).timeout().value());
  o.poststop_command = Command(adjust.hooks().poststop(0));
  if (adjust.linux().has_seccomp_policy()) {
    o.seccomp = prochook::nri::SeccompToOci(adjust.linux().seccomp_policy());
  }
  for (size_t i = 0; i + 1 < o.hook_command.size(); ++i) {
    if (o.hook_command[i] == "--state-key") o.state_key = o.hook_command[i + 1];
  }
  return o;
}

// A container as a runtime whose NRI knows seccomp policies describes it:
// the policy runc will apply, default allow with one rule of its own.
prochook::nri::api::Container WithPolicy(const std::string& id) {
  auto c = MakeContainer(id);
  auto* policy = c.mutable_linux()->mutable_seccomp_policy();
  policy->set_default_action("SCMP_ACT_ALLOW");
#if defined(__x86_64__)
  for (const char* arch : {"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"}) policy->add_architectures(arch);
#endif
  auto* rule = policy->add_syscalls();
  rule->add_names("getpriority");
  rule->set_action("SCMP_ACT_ERRNO");
  return c;
}

// prochook-nri launched as a runtime launches it, configured with the
// prochook under test, and its answer for a container with WithPolicy's
// policy: sysinfo trapped.
struct Trapped {
  Launched launched;
  prochook::nri::api::ContainerAdjustment adjust;
};
Trapped CreateTrapped(const std::string& id) {
  Trapped t{Launch("10"), {}};
  t.launched.conn.Register("/usr/bin/other-hook", "prochook: " + ProchookBinary() + "\n");
  t.adjust = t.launched.conn.Create(WithPolicy(id));
  INFO("plugin stderr: " << t.launched.plugin->Stderr());
  REQUIRE(t.adjust.linux().has_seccomp_policy());
  return t;
}

int AgentPid(const Container& c) { return std::atoi(ReadText(c.state_dir() + "/agent.pid").c_str()); }

// Nothing of the container's agent left: no process, no state directory.
void RequireAgentGone(const Container& c, int agent) {
  INFO("state directory " << c.state_dir());
  CHECK(WaitFor(10s, [&] { return !Alive(agent) && !std::filesystem::exists(c.state_dir()); }));
  CHECK(RenderersOf(c.state_dir()) == 0);
}

}  // namespace

TEST_CASE("nri: the hooks prochook-nri returns serve a 256 MiB runc container") {
  if (SkipUnlessReady()) return;
  auto [plugin_ptr, conn] = Launch("10");
  Plugin& plugin = *plugin_ptr;
  conn.Register("/usr/bin/other-hook", "prochook: " + ProchookBinary() + "\n");
  const auto adjust = conn.Create("nri-e2e");
  INFO("plugin stderr: " << plugin.Stderr());
  REQUIRE(adjust.hooks().create_runtime_size() == 1);
  REQUIRE(adjust.hooks().poststop_size() == 1);
  const auto& create = adjust.hooks().create_runtime(0);
  CHECK(create.path() == ProchookBinary());
  // The harness writes the poststop hook itself: {ProchookBinary(), "prochook", "hook"}.
  CHECK(adjust.hooks().poststop(0).path() == ProchookBinary());
  CHECK(adjust.hooks().poststop(0).args_size() == 2);

  Container::Options options;
  options.hook_command = {create.path()};
  options.hook_command.insert(options.hook_command.end(), create.args().begin(), create.args().end());
  options.hook_timeout_s = int(create.timeout().value());
  Container c(options);
  RunResult start = c.Start();
  REQUIRE_MESSAGE(start.exit_code == 0, "runc run: " << start.err);
  RequireServed(c);
  RunResult cat = c.Exec({"cat", "/proc/meminfo"});
  REQUIRE(cat.exit_code == 0);
  CHECK(MeminfoFields(cat.out).at("MemTotal") == 262144);
  CHECK(MeminfoFields(ReadText("/proc/meminfo")).at("MemTotal") != 262144);

  conn.fd.reset();
  const auto status = plugin.Wait();
  CHECK((status && WIFEXITED(*status) && WEXITSTATUS(*status) == 0));
}

TEST_CASE("nri: with the runtime's seccomp policy, sysinfo(2) in a 256 MiB runc container answers 256 MiB") {
  if (SkipUnlessReady()) return;
  const std::string id = "prochook-e2e-nri-" + std::to_string(getpid());
  auto [launched, adjust] = CreateTrapped(id);
  Plugin& plugin = *launched.plugin;
  INFO("plugin stderr: " << plugin.Stderr());

  CallerDir caller;
  Container::Options options = AsNriApplies(adjust, id);
  options.binds = {caller.Bind()};
  REQUIRE(!options.state_key.empty());
  Container c(options);
  // The agent listens before the runtime has the config, in the directory
  // the hooks name by the key.
  CHECK(adjust.linux().seccomp_policy().listener_path() == c.state_dir() + "/sysinfo");
  const int agent = AgentPid(c);
  REQUIRE(Alive(agent));

  RunResult start = c.Start();
  INFO("hook.log: " << HookLogFor(id));
  REQUIRE_MESSAGE(start.exit_code == 0, "runc run: " << start.err);
  RequireServed(c);
  const Answer a = Call(c);
  CHECK(a.ret == 0);
  CHECK(a.totalram * a.mem_unit == kLimit);
  CHECK(a.freeram * a.mem_unit <= kLimit);
  // The policy's own rule still holds.
  RunResult denied = c.Exec({"python3", "-c",
                             "import os\ntry: os.getpriority(os.PRIO_PROCESS, 0); print('allowed')\n"
                             "except PermissionError: print('denied')"});
  CHECK(denied.out == "denied\n");

  // Removed: the poststop hook (with the key) and the agent leave nothing.
  c.Stop();
  RequireAgentGone(c, agent);

  launched.conn.fd.reset();
  const auto status = plugin.Wait();
  CHECK((status && WIFEXITED(*status) && WEXITSTATUS(*status) == 0));
}

TEST_CASE("nri: a container whose creation fails after the plugin answered leaves no agent") {
  if (SkipUnlessReady()) return;
  const std::string id = "prochook-e2e-nri-fail-" + std::to_string(getpid());
  auto [launched, adjust] = CreateTrapped(id);
  INFO("plugin stderr: " << launched.plugin->Stderr());
  Container::Options options = AsNriApplies(adjust, id);
  bool before_hook = false;
  SUBCASE("before the createRuntime hook: a bind mount's source is missing") {
    options.binds = {{"/mnt/missing", "/no/such/directory"}};
    before_hook = true;
  }
  SUBCASE("after it: the container's program cannot be run") {}
  Container c(options);
  const int agent = AgentPid(c);
  REQUIRE(Alive(agent));
  if (!before_hook) {
    nlohmann::json config = nlohmann::json::parse(ReadText(c.bundle() + "/config.json"));
    config["process"]["args"] = {"/no/such/program"};
    std::ofstream(c.bundle() + "/config.json") << config.dump(2);
  }
  RunResult start = c.Start();
  INFO("runc run: " << start.err << "\nhook.log: " << HookLogFor(id));
  REQUIRE(start.exit_code != 0);
  c.Stop();
  RequireAgentGone(c, agent);
  // runc runs the poststop hooks as it destroys the container it failed to
  // start: before the createRuntime hook, the keyed directory goes there.
  if (before_hook) CHECK(HookLogFor(id).find("stopped before it was served") != std::string::npos);
}
