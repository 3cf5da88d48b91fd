// The plugin's protocol without a socket: a Session fed the bytes a
// runtime sends (tests/nri_runtime.h), its answers read back.
#include <doctest/doctest.h>

#include <string>

#include "nri/adjust.h"
#include "nri/session.h"
#include "tests/nri_runtime.h"

using namespace prochook::nri;
using namespace prochook::nri::testing;
using namespace std::string_literals;

namespace {

constexpr char kBinary[] = "/usr/local/bin/prochook";

struct Pair {
  explicit Pair(AgentStarter start_agent = nullptr, PluginConfig config = PluginConfig{kBinary})
      : plugin({"prochook", "10"}, std::move(config), std::move(start_agent)) {}

  Session plugin;
  FakeRuntime runtime;

  // Sends runtime bytes to the plugin and its answer back.
  bool Exchange(const std::string& bytes) {
    auto out = plugin.Feed(bytes);
    if (!out) {
      error = out.error().message();
      return false;
    }
    return runtime.Feed(*out);
  }
  // Start, Configure, the RegisterPlugin answer.
  void Register(const std::string& config = "", const std::string& nri_version = "") {
    REQUIRE(runtime.Feed(*plugin.Start()));
    api::ConfigureRequest configure;
    configure.set_runtime_name("fake-runtime");
    configure.set_config(config);
    configure.set_nri_version(nri_version);
    REQUIRE(Exchange(runtime.Call("Configure", configure)));
    REQUIRE(Exchange(runtime.Reply(runtime.calls.at(0).stream, api::Empty())));
    REQUIRE(plugin.registered());
  }
  api::ContainerAdjustment Create(const api::Container& container) {
    api::CreateContainerRequest req;
    req.mutable_pod()->set_namespace_("default");
    *req.mutable_container() = container;
    REQUIRE(Exchange(runtime.Call("CreateContainer", req)));
    api::CreateContainerResponse rsp;
    REQUIRE(runtime.Answer(runtime.last_stream(), rsp));
    return rsp.adjust();
  }
  std::string error;
};

void CheckHook(const api::Hook& hook, const std::string& binary) {
  CHECK(hook.path() == binary);
  REQUIRE(hook.args_size() == 2);
  CHECK(hook.args(0) == "prochook");
  CHECK(hook.args(1) == "hook");
  CHECK(hook.env_size() == 0);
  CHECK(hook.timeout().value() == kHookTimeoutSeconds);
}

}  // namespace

TEST_CASE("Start registers on the Runtime connection with the plugin's name and index") {
  Pair p;
  auto hello = p.plugin.Start();
  REQUIRE(hello.ok());
  // The first frame is on mux connection 2, the Runtime service's.
  CHECK(hello->substr(0, 4) == "\0\0\0\x02"s);
  REQUIRE(p.runtime.Feed(*hello));
  REQUIRE(p.runtime.calls.size() == 1);
  const auto& call = p.runtime.calls[0];
  CHECK(call.stream == 1);
  CHECK(call.request.service() == "nri.pkg.api.v1alpha1.Runtime");
  CHECK(call.request.method() == "RegisterPlugin");
  api::RegisterPluginRequest reg;
  REQUIRE(reg.ParseFromString(call.request.payload()));
  CHECK(reg.plugin_name() == "prochook");
  CHECK(reg.plugin_idx() == "10");
  CHECK_FALSE(p.plugin.registered());
}

TEST_CASE("Configure answered before the registration is, subscribing to CreateContainer only") {
  Pair p;
  REQUIRE(p.runtime.Feed(*p.plugin.Start()));
  api::ConfigureRequest configure;
  configure.set_runtime_name("containerd");
  configure.set_nri_version("v0.9.0");
  REQUIRE(p.Exchange(p.runtime.Call("Configure", configure)));
  api::ConfigureResponse rsp;
  REQUIRE(p.runtime.Answer(p.runtime.last_stream(), rsp));
  // Bit CREATE_CONTAINER - 1; 0 would subscribe to every event.
  CHECK(rsp.events() == 0x8);
  CHECK(p.plugin.service().configured());
  CHECK_FALSE(p.plugin.registered());
  REQUIRE(p.Exchange(p.runtime.Reply(1, api::Empty())));
  CHECK(p.plugin.registered());
}

TEST_CASE("Synchronize echoes more and asks for no updates") {
  Pair p;
  p.Register();
  for (bool more : {true, false}) {
    api::SynchronizeRequest sync;
    *sync.add_containers() = MakeContainer("old1");
    *sync.add_containers() = MakeContainer("old2");
    sync.add_pods()->set_id("pod-old1");
    sync.set_more(more);
    REQUIRE(p.Exchange(p.runtime.Call("Synchronize", sync)));
    const auto& raw = p.runtime.responses.at(p.runtime.last_stream());
    CHECK(raw.status().code() == 0);
    api::SynchronizeResponse rsp;
    REQUIRE(rsp.ParseFromString(raw.payload()));
    CHECK(rsp.more() == more);
    // Nothing but `more` in the answer: no field 1 (updates).
    CHECK(raw.payload() == (more ? "\x10\x01"s : ""s));
  }
}

TEST_CASE("CreateContainer adds createRuntime and poststop hooks running prochook hook") {
  Pair p;
  p.Register();
  const auto adjust = p.Create(MakeContainer("c1"));
  REQUIRE(adjust.hooks().create_runtime_size() == 1);
  REQUIRE(adjust.hooks().poststop_size() == 1);
  CheckHook(adjust.hooks().create_runtime(0), kBinary);
  CheckHook(adjust.hooks().poststop(0), kBinary);
  CHECK(adjust.hooks().prestart_size() == 0);
  CHECK(adjust.hooks().start_container_size() == 0);
  CHECK(p.plugin.service().adjusted() == 1);
}

TEST_CASE("CreateContainer leaves alone a disabled container and one that has the hooks") {
  Pair p;
  p.Register();
  CHECK_FALSE(p.Create(MakeContainer("d", {{"io.prochook.disable", "true"}})).has_hooks());
  CHECK(p.Create(MakeContainer("e", {{"io.prochook.disable", "false"}})).has_hooks());
  auto hooked = MakeContainer("h");
  auto* h = hooked.mutable_hooks()->add_create_runtime();
  h->set_path("/opt/other/prochook");
  h->add_args("prochook");
  h->add_args("hook");
  CHECK_FALSE(p.Create(hooked).has_hooks());
  auto by_path = MakeContainer("p");
  by_path.mutable_hooks()->add_prestart()->set_path(kBinary);
  CHECK_FALSE(p.Create(by_path).has_hooks());
  auto other = MakeContainer("o");
  other.mutable_hooks()->add_create_runtime()->set_path("/usr/bin/other-hook");
  CHECK(p.Create(other).has_hooks());
}

TEST_CASE("CreateContainer reads a runtime's full message, fields prochook leaves out included") {
  Pair p;
  p.Register();
  api::CreateContainerRequest req;
  *req.mutable_container() = MakeContainer("full");
  std::string container = req.container().SerializeAsString();
  // Container.args (7) "sh", Container.linux (11) {namespaces (1) {type "pid"}},
  // Container.pid (12) 4242: as api.proto numbers them.
  container += "\x3a\x02sh"s + "\x5a\x07\x0a\x05\x0a\x03pid"s + "\x60\x92\x21"s;
  std::string payload = "\x12"s + char(container.size()) + container;
  // PodSandbox (1) with runtime_handler (7) "runc".
  payload = "\x0a\x06\x3a\x04runc"s + payload;
  ::ttrpc::Request call;
  call.set_service("nri.pkg.api.v1alpha1.Plugin");
  call.set_method("CreateContainer");
  call.set_payload(payload);
  REQUIRE(p.Exchange(RenderMuxFrames(kPluginConn, *RenderTtrpcFrame({41, 1, 0, call.SerializeAsString()}))));
  api::CreateContainerResponse rsp;
  REQUIRE(p.runtime.Answer(41, rsp));
  CHECK(rsp.adjust().hooks().create_runtime_size() == 1);
}

TEST_CASE("The runtime's plugin configuration names the prochook binary") {
  Pair p;
  p.Register("# prochook-nri\nprochook: /opt/prochook/bin/prochook\n");
  CheckHook(p.Create(MakeContainer("c")).hooks().create_runtime(0), "/opt/prochook/bin/prochook");

  Pair bad;
  REQUIRE(bad.runtime.Feed(*bad.plugin.Start()));
  api::ConfigureRequest configure;
  configure.set_config("prochook: relative/path\n");
  REQUIRE(bad.Exchange(bad.runtime.Call("Configure", configure)));
  const auto& raw = bad.runtime.responses.at(bad.runtime.last_stream());
  CHECK(raw.status().code() == 3);
  CHECK(raw.status().message().find("absolute path") != std::string::npos);
}

TEST_CASE("Unknown methods and services are UNIMPLEMENTED, and the session goes on") {
  Pair p;
  p.Register();
  REQUIRE(p.Exchange(p.runtime.Call("StopContainer", api::Empty())));
  CHECK(p.runtime.responses.at(p.runtime.last_stream()).status().code() == 12);
  REQUIRE(p.Exchange(p.runtime.Call("Configure", api::Empty(), "some.other.Service")));
  CHECK(p.runtime.responses.at(p.runtime.last_stream()).status().code() == 12);
  CHECK(p.Create(MakeContainer("after")).has_hooks());
}

TEST_CASE("Shutdown is answered and remembered") {
  Pair p;
  p.Register();
  REQUIRE(p.Exchange(p.runtime.Call("Shutdown", api::Empty())));
  CHECK(p.runtime.responses.at(p.runtime.last_stream()).status().code() == 0);
  CHECK(p.plugin.service().shut_down());
}

TEST_CASE("Bytes split anywhere and large answers in 4 KiB frames") {
  Pair p;
  p.Register("prochook: /" + std::string(5000, 'p'));
  api::CreateContainerRequest req;
  *req.mutable_container() = MakeContainer("split");
  const std::string bytes = p.runtime.Call("CreateContainer", req);
  std::string out;
  for (char c : bytes) {
    auto piece = p.plugin.Feed(std::string_view(&c, 1));
    REQUIRE(piece.ok());
    out += *piece;
  }
  // Two hooks with a 5001-byte path: more than one mux frame, none above 4096.
  REQUIRE(out.size() > 10000);
  for (size_t at = 0; at < out.size();) {
    auto frame = ParseMuxFrame(std::string_view(out).substr(at));
    REQUIRE(frame.ok());
    REQUIRE(frame->has_value());
    CHECK((*frame)->frame.payload.size() <= 4096);
    at += (*frame)->consumed;
  }
  REQUIRE(p.runtime.Feed(out));
  api::CreateContainerResponse rsp;
  REQUIRE(p.runtime.Answer(p.runtime.last_stream(), rsp));
  CHECK(rsp.adjust().hooks().poststop(0).path().size() == 5001);
}

TEST_CASE("Protocol violations end the session with a reason") {
  struct Case {
    const char* name;
    std::string bytes;
    const char* says;
  };
  FakeRuntime rt;
  const std::string bad_request = *RenderTtrpcFrame({1, 1, 0, "\xff\xff\xff"});
  ::ttrpc::Request create;
  create.set_service("nri.pkg.api.v1alpha1.Plugin");
  create.set_method("CreateContainer");
  create.set_payload("\x12\x05\x0a\x09"s);  // a Container cut short
  const Case cases[] = {
      {"oversized mux frame", "\0\0\0\x01\x7f\0\0\0"s, "at most"},
      {"reserved connection", "\0\0\0\0\0\0\0\0"s, "connection 0"},
      {"unknown connection", RenderMuxFrames(3, "x"), "connection 3"},
      {"oversized ttrpc message", RenderMuxFrames(1, "\x01\0\0\0\0\0\0\x01\x01\0"s), "at most"},
      {"ttrpc data frame", RenderMuxFrames(1, *RenderTtrpcFrame({1, 3, 0, ""})), "data"},
      {"request on the Runtime connection", RenderMuxFrames(2, *RenderTtrpcFrame({1, 1, 0, ""})),
       "request"},
      {"bad envelope", RenderMuxFrames(1, bad_request), "not a ttrpc Request"},
      {"bad payload", RenderMuxFrames(1, *RenderTtrpcFrame({1, 1, 0, create.SerializeAsString()})),
       "CreateContainerRequest: not a valid protobuf message"},
      {"bad registration answer", RenderMuxFrames(2, *RenderTtrpcFrame({1, 2, 0, "\x0a\xff"s})),
       "not a ttrpc Response"},
      {"registration refused", rt.Refuse(1, 3, "invalid plugin index"), "invalid plugin index"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.name);
    Session plugin({"prochook", "10"}, PluginConfig{kBinary});
    REQUIRE(plugin.Start().ok());
    auto out = plugin.Feed(c.bytes);
    REQUIRE_FALSE(out.ok());
    CHECK(out.error().message().find(c.says) != std::string::npos);
  }
}

TEST_CASE("CheckIdentity applies NRI's rules for names and indexes") {
  CHECK(CheckIdentity({"prochook", "10"}).ok());
  CHECK(CheckIdentity({"a.b_c+d-1", "00"}).ok());
  CHECK_FALSE(CheckIdentity({"", "10"}).ok());
  CHECK_FALSE(CheckIdentity({"pro chook", "10"}).ok());
  CHECK_FALSE(CheckIdentity({"prochook", "1"}).ok());
  CHECK_FALSE(CheckIdentity({"prochook", "1a"}).ok());
  CHECK_FALSE(CheckIdentity({"prochook", "100"}).ok());
}

TEST_CASE("ParsePluginConfig: prochook: PATH, sysinfo: on|off, comments, blank lines; anything else named") {
  const PluginConfig base{"/base/prochook"};
  struct Case {
    const char* text;
    const char* prochook;  // nullptr: an error saying `says`
    const char* says;
  };
  const Case cases[] = {
      {"", "/base/prochook", nullptr},
      {"# nothing\n\n   \n", "/base/prochook", nullptr},
      {"prochook: /usr/bin/prochook", "/usr/bin/prochook", nullptr},
      {"  prochook :  /a b/prochook  # where\r\n", "/a b/prochook", nullptr},
      {"prochook: /one\nprochook: /two\n", "/two", nullptr},
      {"\nprochook /x\n", nullptr, "line 2: expected \"key: value\""},
      {"prochok: /x", nullptr, "line 1: unknown key \"prochok\""},
      {"prochook:", nullptr, "line 1: prochook must be an absolute path"},
      {"prochook: bin/prochook", nullptr, "absolute path"},
      {"sysinfo: maybe", nullptr, "line 1: sysinfo must be on or off"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.text);
    auto config = ParsePluginConfig(c.text, base);
    if (c.prochook != nullptr) {
      REQUIRE(config.ok());
      CHECK(config->prochook == c.prochook);
    } else {
      REQUIRE_FALSE(config.ok());
      CHECK(config.error().message().find(c.says) != std::string::npos);
    }
  }
  CHECK(ParsePluginConfig("", base)->sysinfo);
  CHECK_FALSE(ParsePluginConfig("sysinfo: off # validator rejects seccomp", base)->sysinfo);
  CHECK(ParsePluginConfig("sysinfo: on", base)->sysinfo);
}

namespace {

// The agent starter's calls, and what it answers.
struct FakeStarter {
  std::vector<std::string> dirs;
  bool fail = false;

  AgentStarter Starter() {
    return [this](const PluginConfig& config, const std::string& dir) -> prochook::Result<> {
      CHECK(config.prochook == kBinary);
      dirs.push_back(dir);
      if (fail) return prochook::Error::Msg("prochook agent did not come up");
      return prochook::Ok{};
    };
  }
};

api::Container WithDefaultAllow(const std::string& id) {
  api::Container c = MakeContainer(id);
  c.mutable_linux()->mutable_seccomp_policy()->set_default_action("SCMP_ACT_ALLOW");
  return c;
}

// The hook's arguments after "prochook", "hook".
std::vector<std::string> ExtraArgs(const api::Hook& hook) {
  return std::vector<std::string>(hook.args().begin() + 2, hook.args().end());
}

}  // namespace

TEST_CASE("CreateContainer with a seccomp policy: sysinfo trapped for an agent started in a keyed directory") {
  FakeStarter agents;
  Pair p(agents.Starter());
  p.Register();
  const auto adjust = p.Create(WithDefaultAllow("c1"));
  REQUIRE(agents.dirs.size() == 1);
  const std::string dir = agents.dirs[0];
  CHECK(dir.rfind("/run/prochook/c1.", 0) == 0);
  REQUIRE(adjust.linux().has_seccomp_policy());
  const auto& policy = adjust.linux().seccomp_policy();
  CHECK(policy.default_action() == "SCMP_ACT_ALLOW");
  CHECK(policy.listener_path() == dir + "/sysinfo");
  REQUIRE(policy.syscalls_size() == 1);
  CHECK(policy.syscalls(0).action() == "SCMP_ACT_NOTIFY");
  // Both hooks name the agent's directory by the same key.
  REQUIRE(adjust.hooks().create_runtime_size() == 1);
  REQUIRE(adjust.hooks().poststop_size() == 1);
  const auto args = ExtraArgs(adjust.hooks().create_runtime(0));
  REQUIRE(args.size() == 2);
  CHECK(args[0] == "--state-key");
  CHECK(args[1].rfind("nri-", 0) == 0);
  CHECK(ExtraArgs(adjust.hooks().poststop(0)) == args);
  CHECK(p.plugin.service().trapped() == 1);

  // Another container with the same id (another runtime root, namespace):
  // another key, another directory.
  const auto again = p.Create(WithDefaultAllow("c1"));
  REQUIRE(agents.dirs.size() == 2);
  CHECK(agents.dirs[1] != dir);
  CHECK(again.linux().seccomp_policy().listener_path() == agents.dirs[1] + "/sysinfo");
  CHECK(ExtraArgs(again.hooks().create_runtime(0))[1] != args[1]);
}

TEST_CASE("CreateContainer gives the hooks alone when there is nothing to trap or no agent") {
  FakeStarter agents;
  Pair p(agents.Starter());
  p.Register();
  auto hooks_only = [](const api::ContainerAdjustment& adjust) {
    CHECK_FALSE(adjust.has_linux());
    REQUIRE(adjust.hooks().create_runtime_size() == 1);
    CheckHook(adjust.hooks().create_runtime(0), kBinary);
    CheckHook(adjust.hooks().poststop(0), kBinary);
  };
  SUBCASE("an older runtime: no policy in the request") {
    hooks_only(p.Create(MakeContainer("old")));
    CHECK(agents.dirs.empty());
  }
  SUBCASE("a policy AddSysinfoNotify declines") {
    api::Container c = MakeContainer("strict");
    auto* policy = c.mutable_linux()->mutable_seccomp_policy();
    policy->set_default_action("SCMP_ACT_ERRNO");
    auto* rule = policy->add_syscalls();
    rule->add_names("read");
    rule->set_action("SCMP_ACT_ALLOW");
    hooks_only(p.Create(c));
    CHECK(agents.dirs.empty());
  }
  SUBCASE("errno rules and a runtime whose NRI cannot take them back") {
    api::Container c = WithDefaultAllow("errno");
    auto* rule = c.mutable_linux()->mutable_seccomp_policy()->add_syscalls();
    rule->add_names("clone3");
    rule->set_action("SCMP_ACT_ERRNO");
    rule->mutable_errno_ret()->set_value(38);
    hooks_only(p.Create(c));
    CHECK(agents.dirs.empty());
  }
  SUBCASE("the agent does not start") {
    agents.fail = true;
    hooks_only(p.Create(WithDefaultAllow("failing")));
    CHECK(agents.dirs.size() == 1);
  }
  SUBCASE("a disabled container: nothing at all") {
    api::Container c = WithDefaultAllow("off");
    (*c.mutable_annotations())["io.prochook.disable"] = "true";
    const auto adjust = p.Create(c);
    CHECK_FALSE(adjust.has_hooks());
    CHECK_FALSE(adjust.has_linux());
    CHECK(agents.dirs.empty());
  }
  CHECK(p.plugin.service().trapped() == 0);
}

TEST_CASE("CreateContainer: errno rules are trapped for a runtime of NRI v0.12.0 on") {
  FakeStarter agents;
  Pair p(agents.Starter());
  p.Register("", "v0.12.0");
  api::Container c = WithDefaultAllow("errno");
  auto* rule = c.mutable_linux()->mutable_seccomp_policy()->add_syscalls();
  rule->add_names("clone3");
  rule->set_action("SCMP_ACT_ERRNO");
  rule->mutable_errno_ret()->set_value(38);
  const auto adjust = p.Create(c);
  REQUIRE(adjust.linux().has_seccomp_policy());
  CHECK(adjust.linux().seccomp_policy().syscalls(0).errno_ret().value() == 38);
}

TEST_CASE("sysinfo: off in the plugin configuration, and --run-dir given to the hooks") {
  FakeStarter agents;
  PluginConfig config{kBinary};
  config.run_dir = "/tmp/prochook-test-run";
  Pair p(agents.Starter(), config);
  p.Register();
  const auto adjust = p.Create(WithDefaultAllow("c1"));
  REQUIRE(agents.dirs.size() == 1);
  CHECK(agents.dirs[0].rfind("/tmp/prochook-test-run/c1.", 0) == 0);
  const auto args = ExtraArgs(adjust.hooks().create_runtime(0));
  REQUIRE(args.size() == 4);
  CHECK(args[0] == "--run-dir");
  CHECK(args[1] == "/tmp/prochook-test-run");
  CHECK(args[2] == "--state-key");

  Pair off(agents.Starter());
  off.Register("sysinfo: off\n");
  const auto plain = off.Create(WithDefaultAllow("c2"));
  CHECK_FALSE(plain.has_linux());
  CHECK(plain.hooks().create_runtime_size() == 1);
  CHECK(agents.dirs.size() == 1);
}
