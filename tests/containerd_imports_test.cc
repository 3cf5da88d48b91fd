// config.toml's import of prochook's snippet: added as one line before the
// first table, removed byte for byte, refused where it could not be undone.
#include <doctest/doctest.h>

#include "install/containerd_imports.h"

using prochook::AddContainerdImport;
using prochook::RemoveContainerdImport;

namespace {

const std::string kSnippet = "/etc/containerd/prochook.toml";

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

}  // namespace

TEST_CASE("the import line goes before the first table and comes out byte for byte") {
  const char* configs[] = {
      kDebian,
      "# comment\nversion = 2\nroot = \"/var/lib/containerd\"\n[grpc]\n  address = \"/run/x.sock\"\n",
      "version = 2\n",  // no table: appended
      "  version=2\r\n[plugins]\r\n",
  };
  for (const char* config : configs) {
    CAPTURE(config);
    auto added = AddContainerdImport(config, kSnippet);
    REQUIRE(added);
    REQUIRE(added->has_value());
    const std::string& text = **added;
    const size_t line = text.find("imports = [\"/etc/containerd/prochook.toml\"]");
    REQUIRE(line != std::string::npos);
    CHECK((line == 0 || text[line - 1] == '\n'));
    const size_t table = text.find("\n[");
    if (table != std::string::npos) CHECK(line < table);
    // Added once: a second install changes nothing.
    auto again = AddContainerdImport(text, kSnippet);
    REQUIRE(again);
    CHECK_FALSE(again->has_value());
    CHECK(RemoveContainerdImport(text, kSnippet) == std::string(config));
  }
  CHECK(AddContainerdImport(kDebian, kSnippet).value()->rfind("version = 2\n\nimports = [", 0) == 0);
}

TEST_CASE("refused: imports of the operator's own, not version 2, no final newline") {
  struct Case {
    const char* config;
    const char* says;
  };
  const Case cases[] = {
      {"version = 2\nimports = [\"/etc/containerd/other.toml\"]\n", "has imports of its own"},
      {"version = 2\nimports = [\n  \"/etc/containerd/other.toml\",\n]\n", "has imports of its own"},
      {"root = \"/var/lib/containerd\"\n[plugins.cri]\n", "is not a version = 2 config"},
      {"version = 1\n", "is not a version = 2 config"},
      {"version = 2", "does not end with a newline"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.config);
    auto r = AddContainerdImport(c.config, kSnippet);
    REQUIRE_FALSE(r);
    CHECK(r.error().message().find(c.says) != std::string::npos);
  }
}

TEST_CASE("an import the operator wrote is theirs: install leaves it, uninstall too") {
  const std::string mine = "version = 2\nimports = [\"/etc/containerd/prochook.toml\", \"/etc/x.toml\"]\n";
  auto r = AddContainerdImport(mine, kSnippet);
  REQUIRE(r);
  CHECK_FALSE(r->has_value());
  CHECK_FALSE(RemoveContainerdImport(mine, kSnippet).has_value());
  // A table key named imports is not the top-level key.
  auto t = AddContainerdImport("version = 2\n[plugins.x]\n  imports = [\"a\"]\n", kSnippet);
  REQUIRE(t);
  CHECK(t->has_value());
}
