// prochook-nri, the binary, against a runtime played by this test over a
// real socket (NRI's adaptation, written from the protocol description in
// tests/nri_runtime.h): the external plugin dialing the runtime's socket,
// the plugin a runtime starts with a connected socket, a runtime that
// restarts, and malformed input, after which the plugin must report and
// exit, never crash.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "common/fd.h"
#include "common/io.h"
#include "tests/nri_runtime.h"
#include "tests/testing.h"

using namespace prochook;
using namespace prochook::nri;
using namespace prochook::nri::testing;
using namespace std::chrono_literals;
using namespace std::string_literals;

namespace {

constexpr char kBinary[] = "/opt/test/prochook";

std::string PluginBinary() {
  // Bazel runs tests from the runfiles tree, where //nri:prochook-nri is here.
  return std::filesystem::canonical("nri/prochook-nri").string();
}

// The runtime's listening socket at path.
UniqueFd Listen(const std::string& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof(addr.sun_path) - 1);
  UniqueFd fd(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  REQUIRE(fd.valid());
  REQUIRE(bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0);
  REQUIRE(listen(fd.get(), 4) == 0);
  return fd;
}

bool Readable(int fd, std::chrono::milliseconds timeout) {
  pollfd p{fd, POLLIN, 0};
  return poll(&p, 1, int(timeout.count())) == 1;
}

UniqueFd Accept(int listener, std::chrono::milliseconds timeout = 5s) {
  REQUIRE_MESSAGE(Readable(listener, timeout), "the plugin did not connect");
  UniqueFd fd(accept4(listener, nullptr, nullptr, SOCK_CLOEXEC));
  REQUIRE(fd.valid());
  return fd;
}

// The plugin process: stderr kept in a file, killed and reaped on scope exit.
class Plugin {
 public:
  // args after the binary; env replaces the environment (as containerd's
  // launch does); inherit becomes fd 3 when valid.
  Plugin(const std::vector<std::string>& args, const std::vector<std::string>& env, int inherit = -1)
      : log_(dir_.path() + "/stderr") {
    const std::string binary = PluginBinary();
    std::vector<std::string> argv_s = {binary};
    argv_s.insert(argv_s.end(), args.begin(), args.end());
    pid_ = fork();
    REQUIRE(pid_ >= 0);
    if (pid_ == 0) {
      int err = open(log_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      dup2(err, 2);
      if (inherit >= 0) dup2(inherit, 3);  // dup2 clears FD_CLOEXEC on 3
      std::vector<char*> argv, envp;
      for (auto& a : argv_s) argv.push_back(a.data());
      argv.push_back(nullptr);
      std::vector<std::string> env_s = env;
      for (auto& e : env_s) envp.push_back(e.data());
      envp.push_back(nullptr);
      execve(binary.c_str(), argv.data(), envp.data());
      _exit(127);
    }
  }
  ~Plugin() {
    if (pid_ > 0 && !status_) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }
  // The wait status once the plugin exits within timeout; nullopt if not.
  std::optional<int> Wait(std::chrono::milliseconds timeout = 5s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!status_ && std::chrono::steady_clock::now() < deadline) {
      int status;
      if (waitpid(pid_, &status, WNOHANG) == pid_) status_ = status;
      else std::this_thread::sleep_for(20ms);
    }
    return status_;
  }
  std::string Stderr() const { return ReadFile(log_).ok() ? *ReadFile(log_) : ""; }

 private:
  prochook::testing::TempDir dir_;
  std::string log_;
  pid_t pid_ = -1;
  std::optional<int> status_;
};

// One connection, seen from the runtime's side.
struct RuntimeConn {
  UniqueFd fd;
  FakeRuntime rt;

  void Send(const std::string& bytes) { REQUIRE(WriteAll(fd.get(), bytes).ok()); }
  // Reads until pred holds; false on timeout or when the plugin closed.
  bool ReadUntil(const std::function<bool()>& pred, std::chrono::milliseconds timeout = 5s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    char buf[65536];
    while (!pred()) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left <= 0ms || !Readable(fd.get(), left)) return false;
      const ssize_t n = read(fd.get(), buf, sizeof(buf));
      if (n <= 0) return false;
      REQUIRE_MESSAGE(rt.Feed(std::string_view(buf, size_t(n))), rt.error());
    }
    return true;
  }
  // True once the plugin closed its end (read returns 0 or a reset).
  bool ClosedByPlugin(std::chrono::milliseconds timeout = 5s) {
    char buf[4096];
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left <= 0ms || !Readable(fd.get(), left)) return false;
      const ssize_t n = read(fd.get(), buf, sizeof(buf));
      if (n <= 0) return true;
    }
  }
  // What NRI's adaptation does on a new connection: wait for
  // RegisterPlugin, configure (before answering it, as the adaptation
  // may), answer it, synchronize with the existing containers.
  api::RegisterPluginRequest Register() {
    REQUIRE_MESSAGE(ReadUntil([&] { return !rt.calls.empty(); }), "no RegisterPlugin");
    const PluginCall call = rt.calls.back();
    CHECK(call.request.service() == "nri.pkg.api.v1alpha1.Runtime");
    CHECK(call.request.method() == "RegisterPlugin");
    api::RegisterPluginRequest reg;
    REQUIRE(reg.ParseFromString(call.request.payload()));
    api::ConfigureRequest configure;
    configure.set_runtime_name("nri-test-runtime");
    configure.set_runtime_version("0.0");
    configure.set_nri_version("v0.9.0");
    Send(rt.Call("Configure", configure));
    const uint32_t stream = rt.last_stream();
    api::ConfigureResponse configured;
    REQUIRE(ReadUntil([&] { return rt.responses.count(stream) > 0; }));
    REQUIRE(rt.Answer(stream, configured));
    CHECK(configured.events() == 0x8);
    Send(rt.Reply(call.stream, api::Empty()));
    api::SynchronizeRequest sync;
    auto existing = MakeContainer("existing");
    auto* hook = existing.mutable_hooks()->add_create_runtime();
    hook->set_path(kBinary);
    *sync.add_containers() = existing;
    *sync.add_containers() = MakeContainer("unserved");
    sync.add_pods()->set_id("pod-existing");
    Send(rt.Call("Synchronize", sync));
    const uint32_t sync_stream = rt.last_stream();
    REQUIRE(ReadUntil([&] { return rt.responses.count(sync_stream) > 0; }));
    api::SynchronizeResponse synced;
    REQUIRE(rt.Answer(sync_stream, synced));
    CHECK_FALSE(synced.more());
    return reg;
  }
  api::ContainerAdjustment Create(const std::string& id) {
    api::CreateContainerRequest req;
    *req.mutable_container() = MakeContainer(id);
    Send(rt.Call("CreateContainer", req));
    const uint32_t stream = rt.last_stream();
    REQUIRE(ReadUntil([&] { return rt.responses.count(stream) > 0; }));
    api::CreateContainerResponse rsp;
    REQUIRE(rt.Answer(stream, rsp));
    return rsp.adjust();
  }
};

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
  const auto reg = conn.Register();
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
  int pair[2];
  REQUIRE(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) == 0);
  UniqueFd ours(pair[0]), theirs(pair[1]);
  // containerd's launch: no arguments, only these three variables.
  Plugin plugin({}, {"NRI_PLUGIN_NAME=prochook", "NRI_PLUGIN_IDX=05", "NRI_PLUGIN_SOCKET=3"},
                theirs.get());
  theirs.reset();
  RuntimeConn conn{std::move(ours)};
  const auto reg = conn.Register();
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
    conn.Register();
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
      conn.Register();
      CheckHooks(conn.Create("before"));
    }  // the runtime stops: connection and socket closed
    std::filesystem::remove(sock);
    std::this_thread::sleep_for(1500ms);  // the plugin finds no socket meanwhile
    CHECK_FALSE(plugin->Wait(0ms));
    UniqueFd listener = Listen(sock);
    RuntimeConn conn{Accept(listener.get(), 5s)};
    conn.Register();
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
    conn.Register();
    conn.Send(RenderMuxFrames(9, "?"));
    CHECK(conn.ClosedByPlugin());
  }
  RuntimeConn again{Accept(listener.get(), 5s)};
  again.Register();
  CheckHooks(again.Create("after-error"));
  INFO("stderr: " << plugin.Stderr());
  CHECK_FALSE(plugin.Wait(0ms));
  CHECK(plugin.Stderr().find("connection 9") != std::string::npos);
}
