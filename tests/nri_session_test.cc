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
  Session plugin{{"prochook", "10"}, PluginConfig{kBinary}};
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
  void Register(const std::string& config = "") {
    REQUIRE(runtime.Feed(*plugin.Start()));
    api::ConfigureRequest configure;
    configure.set_runtime_name("fake-runtime");
    configure.set_config(config);
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

TEST_CASE("ParsePluginConfig: prochook: PATH, comments, blank lines; anything else named") {
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
}
