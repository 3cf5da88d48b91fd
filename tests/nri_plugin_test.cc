// prochook-nri, the binary, against a runtime played by this test over a
// real socket (NRI's adaptation, written from the protocol description in
// tests/nri_runtime.h): the external plugin dialing the runtime's socket,
// the plugin a runtime starts with a connected socket, a runtime that
// restarts, and malformed input, after which the plugin must report and
// exit, never crash.
#include <doctest/doctest.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <filesystem>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "common/fd.h"
#include "tests/nri_harness.h"
#include "tests/testing.h"

using namespace prochook;
using namespace prochook::nri;
using namespace prochook::nri::testing;
using namespace std::chrono_literals;
using namespace std::string_literals;

namespace {

constexpr char kBinary[] = "/opt/test/prochook";

void CheckHooks(const api::ContainerAdjustment& adjust) {
  for (const auto* list : {&adjust.hooks().create_runtime(), &adjust.hooks().poststop()}) {
    REQUIRE(list->size() == 1);
    CHECK(list->Get(0).path() == kBinary);
    REQUIRE(list->Get(0).args_size() == 2);
    CHECK(list->Get(0).args(0) == "prochook");
    CHECK(list->Get(0).args(1) == "hook");
  }
}

bool ExitedWith(std::optional<int> status, int code) {
  return status && WIFEXITED(*status) && WEXITSTATUS(*status) == code;
}

}  // namespace

TEST_CASE("An external plugin registers, is configured and synchronized, and adds the hooks") {
  prochook::testing::TempDir dir;
  const std::string sock = dir.path() + "/nri.sock";
  UniqueFd listener = Listen(sock);
  Plugin plugin({"--socket", sock, "--prochook", kBinary, "--idx", "42"}, {});
  RuntimeConn conn{Accept(listener.get())};
  const auto reg = conn.Register(kBinary);
  CHECK(reg.plugin_name() == "prochook");
  CHECK(reg.plugin_idx() == "42");
  CheckHooks(conn.Create("new1"));
  CheckHooks(conn.Create("new2"));
  // Shutdown, then the runtime closes: a clean exit.
  conn.Send(conn.rt.Call("Shutdown", api::Empty()));
  const uint32_t stream = conn.rt.last_stream();
  REQUIRE(conn.ReadUntil([&] { return conn.rt.responses.count(stream) > 0; }));
  conn.fd.reset();
  const auto status = plugin.Wait();
  INFO("stderr: " << plugin.Stderr());
  CHECK(ExitedWith(status, 0));
  CHECK(plugin.Stderr().find("after its shutdown; 2 containers given the hooks") != std::string::npos);
  CHECK(plugin.Stderr().find("synchronized: 1 pods, 2 containers (1 with prochook's hooks)") !=
        std::string::npos);
}

TEST_CASE("A plugin the runtime starts serves the socket it is given (NRI_PLUGIN_SOCKET)") {
  auto [plugin_ptr, conn] = Launch("05");
  Plugin& plugin = *plugin_ptr;
  const auto reg = conn.Register(kBinary);
  CHECK(reg.plugin_name() == "prochook");
  CHECK(reg.plugin_idx() == "05");
  // No --prochook: the default path (the runtime's configuration may say otherwise).
  const auto adjust = conn.Create("c");
  REQUIRE(adjust.hooks().create_runtime_size() == 1);
  CHECK(adjust.hooks().create_runtime(0).path() == "/usr/local/bin/prochook");
  conn.fd.reset();
  const auto status = plugin.Wait();
  INFO("stderr: " << plugin.Stderr());
  CHECK(ExitedWith(status, 0));
}

TEST_CASE("A runtime that restarts: the plugin exits, or with --reconnect registers again") {
  prochook::testing::TempDir dir;
  const std::string sock = dir.path() + "/nri.sock";
  SUBCASE("without --reconnect it exits 0 when the runtime goes away") {
    UniqueFd listener = Listen(sock);
    Plugin plugin({"--socket", sock, "--prochook", kBinary}, {});
    RuntimeConn conn{Accept(listener.get())};
    conn.Register(kBinary);
    conn.fd.reset();
    listener.reset();
    const auto status = plugin.Wait();
    INFO("stderr: " << plugin.Stderr());
    CHECK(ExitedWith(status, 0));
    CHECK(plugin.Stderr().find("the runtime closed the connection;") != std::string::npos);
  }
  SUBCASE("with --reconnect it waits for the socket and registers anew") {
    std::optional<Plugin> plugin;
    {
      UniqueFd listener = Listen(sock);
      plugin.emplace(std::vector<std::string>{"--socket", sock, "--prochook", kBinary, "--reconnect"},
                     std::vector<std::string>{});
      RuntimeConn conn{Accept(listener.get())};
      conn.Register(kBinary);
      CheckHooks(conn.Create("before"));
    }  // the runtime stops: connection and socket closed
    std::filesystem::remove(sock);
    std::this_thread::sleep_for(1500ms);  // the plugin finds no socket meanwhile
    CHECK_FALSE(plugin->Wait(0ms));
    UniqueFd listener = Listen(sock);
    RuntimeConn conn{Accept(listener.get(), 5s)};
    conn.Register(kBinary);
    CheckHooks(conn.Create("after"));
    const std::string err = plugin->Stderr();
    INFO("stderr: " << err);
    CHECK(err.find("trying again every second") != std::string::npos);
    size_t registrations = 0;
    for (size_t at = 0; (at = err.find("registered as 10-prochook", at)) != std::string::npos; ++at) {
      ++registrations;
    }
    CHECK(registrations == 2);
  }
}

TEST_CASE("Malformed input: the plugin says why, closes the connection and exits 1, never crashes") {
  struct Case {
    const char* name;
    std::function<std::string(FakeRuntime&)> bytes;
    const char* says;
  };
  const Case cases[] = {
      {"oversized mux length", [](FakeRuntime&) { return "\0\0\0\x01\xff\xff\xff\xf0"s; }, "at most"},
      {"unknown connection id", [](FakeRuntime&) { return RenderMuxFrames(7, "hello"); },
       "connection 7"},
      {"bad protobuf", [](FakeRuntime& rt) {
         ::ttrpc::Request r;
         r.set_service("nri.pkg.api.v1alpha1.Plugin");
         r.set_method("CreateContainer");
         r.set_payload("\x12\x7f\x0a"s);  // a Container of 127 bytes, 1 given
         return RenderMuxFrames(kPluginConn, *RenderTtrpcFrame({99, 1, 0, r.SerializeAsString()}));
       },
       "CreateContainerRequest: not a valid protobuf message"},
      {"registration refused", [](FakeRuntime& rt) { return rt.Refuse(1, 3, "plugin name taken"); },
       "plugin name taken"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.name);
    prochook::testing::TempDir dir;
    const std::string sock = dir.path() + "/nri.sock";
    UniqueFd listener = Listen(sock);
    Plugin plugin({"--socket", sock}, {});
    RuntimeConn conn{Accept(listener.get())};
    REQUIRE(conn.ReadUntil([&] { return !conn.rt.calls.empty(); }));
    conn.Send(c.bytes(conn.rt));
    CHECK(conn.ClosedByPlugin());
    const auto status = plugin.Wait();
    INFO("stderr: " << plugin.Stderr());
    CHECK(ExitedWith(status, 1));
    CHECK(plugin.Stderr().find(c.says) != std::string::npos);
  }
}

TEST_CASE("With --reconnect a protocol error ends the connection, not the plugin") {
  prochook::testing::TempDir dir;
  const std::string sock = dir.path() + "/nri.sock";
  UniqueFd listener = Listen(sock);
  Plugin plugin({"--socket", sock, "--prochook", kBinary, "--reconnect"}, {});
  {
    RuntimeConn conn{Accept(listener.get())};
    conn.Register(kBinary);
    conn.Send(RenderMuxFrames(9, "?"));
    CHECK(conn.ClosedByPlugin());
  }
  RuntimeConn again{Accept(listener.get(), 5s)};
  again.Register(kBinary);
  CheckHooks(again.Create("after-error"));
  INFO("stderr: " << plugin.Stderr());
  CHECK_FALSE(plugin.Wait(0ms));
  CHECK(plugin.Stderr().find("connection 9") != std::string::npos);
}
