// The NRI plugin's hooks on a real container: prochook-nri, started the
// way a runtime starts it (a connected socket, NRI_PLUGIN_* and nothing
// else, its configuration naming the prochook under test), answers
// CreateContainer; the createRuntime hook it returns goes into the
// container's config.json as NRI's adaptation would put it, and runc runs
// the container. No containerd here has NRI (Debian 12's is 1.6), so this
// test plays the runtime's part of the protocol (tests/nri_harness.h).
#include <doctest/doctest.h>
#include <sys/wait.h>

#include <string>
#include <vector>

#include "tests/e2e/harness.h"
#include "tests/nri_harness.h"

using namespace prochook;
using namespace prochook::e2e;
using namespace prochook::nri::testing;

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
