// The runtime handler "prochook" in containerd's config.toml: one block at
// the end, the default runc runtime with it where the file names none,
// removed byte for byte, refused where it would clash.
#include <doctest/doctest.h>

#include "install/containerd_runtime.h"

using prochook::AddContainerdRuntime;
using prochook::RemoveContainerdRuntime;

namespace {

const std::string kWrapper = "/usr/local/bin/prochook-runtime";

// Debian 12's /etc/containerd/config.toml (containerd 1.6.20).
constexpr char kDebian[] = R"(version = 2

[plugins]
  [plugins."io.containerd.grpc.v1.cri"]
    [plugins."io.containerd.grpc.v1.cri".cni]
      bin_dir = "/usr/lib/cni"
      conf_dir = "/etc/cni/net.d"
  [plugins."io.containerd.internal.v1.opt"]
    path = "/var/lib/containerd/opt"
)";

// As `containerd config default` writes it (kubeadm's guides), abridged.
constexpr char kWithRunc[] = R"(version = 2
[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
  runtime_type = "io.containerd.runc.v2"
  [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
    SystemdCgroup = true
)";

}  // namespace

TEST_CASE("the block goes at the end, with runc only where the file names no runtime, and comes out byte for byte") {
  struct Case {
    const char* config;
    bool adds_runc;
  };
  const Case cases[] = {{kDebian, true}, {kWithRunc, false}, {"version = 2\n", true}, {"  version=2\r\n", true}};
  for (const Case& c : cases) {
    CAPTURE(c.config);
    auto added = AddContainerdRuntime(c.config, kWrapper);
    REQUIRE(added);
    REQUIRE(added->has_value());
    const std::string& text = **added;
    CHECK(text.rfind(c.config, 0) == 0);  // the operator's text first, untouched
    const std::string block = text.substr(std::string(c.config).size());
    CHECK(block.find("runtimes.prochook]\n  runtime_type = \"io.containerd.runc.v2\"\n") != std::string::npos);
    CHECK(block.find("BinaryName = \"/usr/local/bin/prochook-runtime\"\n") != std::string::npos);
    CHECK((block.find("runtimes.runc]") != std::string::npos) == c.adds_runc);
    // A second install changes nothing; another wrapper path replaces the block in place.
    auto again = AddContainerdRuntime(text, kWrapper);
    REQUIRE(again);
    CHECK_FALSE(again->has_value());
    auto moved = AddContainerdRuntime(text, "/opt/prochook-runtime");
    REQUIRE(moved);
    REQUIRE(moved->has_value());
    CHECK((*moved)->find("BinaryName = \"/opt/prochook-runtime\"") != std::string::npos);
    CHECK((*moved)->find(kWrapper) == std::string::npos);
    CHECK(RemoveContainerdRuntime(text) == std::string(c.config));
    CHECK(RemoveContainerdRuntime(**moved) == std::string(c.config));
  }
  CHECK_FALSE(RemoveContainerdRuntime(kDebian).has_value());
}

TEST_CASE("refused: the operator's own runtime prochook, not version 2, no final newline") {
  struct Case {
    const char* config;
    const char* says;
  };
  const Case cases[] = {
      {"version = 2\n[plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.prochook]\n  runtime_type = \"x\"\n",
       "has a runtime \"prochook\" of its own"},
      {"root = \"/var/lib/containerd\"\n[plugins.cri]\n", "is not a version = 2 config"},
      {"[plugins]\nversion = 2\n", "is not a version = 2 config"},  // a key of [plugins], not top-level
      {"version = 1\n", "is not a version = 2 config"},
      {"version = 2", "does not end with a newline"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.config);
    auto r = AddContainerdRuntime(c.config, kWrapper);
    REQUIRE_FALSE(r);
    CHECK(r.error().message().find(c.says) != std::string::npos);
  }
}
