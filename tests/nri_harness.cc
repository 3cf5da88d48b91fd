#include "tests/nri_harness.h"

#include <doctest/doctest.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <thread>

#include "common/io.h"

namespace prochook::nri::testing {

std::string PluginBinary() {
  // Bazel runs tests from the runfiles tree, where //nri:prochook-nri is here.
  return std::filesystem::canonical("nri/prochook-nri").string();
}

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

UniqueFd Accept(int listener, std::chrono::milliseconds timeout) {
  REQUIRE_MESSAGE(Readable(listener, timeout), "the plugin did not connect");
  UniqueFd fd(accept4(listener, nullptr, nullptr, SOCK_CLOEXEC));
  REQUIRE(fd.valid());
  return fd;
}

Plugin::Plugin(const std::vector<std::string>& args, const std::vector<std::string>& env, int inherit)
    : log_(dir_.path() + "/stderr") {
  // Everything the child needs is made before fork: it only calls
  // async-signal-safe functions.
  std::vector<std::string> argv_s = {PluginBinary()};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<std::string> env_s = env;
  std::vector<char*> argv, envp;
  for (auto& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);
  for (auto& e : env_s) envp.push_back(e.data());
  envp.push_back(nullptr);
  UniqueFd err(open(log_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  REQUIRE(err.valid());
  pid_ = fork();
  REQUIRE(pid_ >= 0);
  if (pid_ == 0) {
    dup2(err.get(), 2);
    if (inherit >= 0) dup2(inherit, 3);  // dup2 clears FD_CLOEXEC on 3
    execve(argv[0], argv.data(), envp.data());
    _exit(127);
  }
}

Plugin::~Plugin() {
  if (pid_ > 0 && !status_) {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
}

std::optional<int> Plugin::Wait(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  do {
    int status;
    if (!status_ && waitpid(pid_, &status, WNOHANG) == pid_) status_ = status;
    if (status_ || std::chrono::steady_clock::now() >= deadline) break;
    std::this_thread::sleep_for(20ms);
  } while (true);
  return status_;
}

std::string Plugin::Stderr() const {
  auto text = ReadFile(log_);
  return text ? *text : "";
}

void RuntimeConn::Send(const std::string& bytes) { REQUIRE(WriteAll(fd.get(), bytes).ok()); }

bool RuntimeConn::ReadUntil(const std::function<bool()>& pred, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  char buf[65536];
  while (!pred()) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left <= 0ms || !Readable(fd.get(), left)) return false;
    const ssize_t n = read(fd.get(), buf, sizeof(buf));
    if (n <= 0) return false;
    REQUIRE_MESSAGE(rt.Feed(std::string_view(buf, size_t(n))), rt.error());
  }
  return true;
}

bool RuntimeConn::ClosedByPlugin(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  char buf[4096];
  for (;;) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left <= 0ms || !Readable(fd.get(), left)) return false;
    if (read(fd.get(), buf, sizeof(buf)) <= 0) return true;
  }
}

api::RegisterPluginRequest RuntimeConn::Register(const std::string& existing_hook,
                                                 const std::string& config) {
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
  configure.set_config(config);
  Send(rt.Call("Configure", configure));
  const uint32_t stream = rt.last_stream();
  REQUIRE(ReadUntil([&] { return rt.responses.count(stream) > 0; }));
  api::ConfigureResponse configured;
  REQUIRE(rt.Answer(stream, configured));
  CHECK(configured.events() == 0x8);
  Send(rt.Reply(call.stream, api::Empty()));
  api::SynchronizeRequest sync;
  auto existing = MakeContainer("existing");
  existing.mutable_hooks()->add_create_runtime()->set_path(existing_hook);
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

api::ContainerAdjustment RuntimeConn::Create(const std::string& id) { return Create(MakeContainer(id)); }

api::ContainerAdjustment RuntimeConn::Create(const api::Container& container) {
  api::CreateContainerRequest req;
  *req.mutable_container() = container;
  Send(rt.Call("CreateContainer", req));
  const uint32_t stream = rt.last_stream();
  REQUIRE(ReadUntil([&] { return rt.responses.count(stream) > 0; }));
  api::CreateContainerResponse rsp;
  REQUIRE(rt.Answer(stream, rsp));
  return rsp.adjust();
}

Launched Launch(const std::string& idx) {
  int pair[2];
  REQUIRE(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) == 0);
  UniqueFd ours(pair[0]), theirs(pair[1]);
  auto plugin = std::make_unique<Plugin>(
      std::vector<std::string>{},
      std::vector<std::string>{"NRI_PLUGIN_NAME=prochook", "NRI_PLUGIN_IDX=" + idx, "NRI_PLUGIN_SOCKET=3"},
      theirs.get());
  return Launched{std::move(plugin), RuntimeConn{std::move(ours)}};
}

}  // namespace prochook::nri::testing
