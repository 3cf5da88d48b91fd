// `prochook install` and `uninstall` into a scratch root, as a user runs
// them: what they print, what they write, idempotence, dry runs, refusals.
#include <doctest/doctest.h>

#include <filesystem>
#include <map>

#include "tests/e2e/harness.h"
#include "tests/testing.h"

namespace fs = std::filesystem;
using namespace prochook::e2e;
using prochook::testing::TempDir;

namespace {

RunResult Prochook(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {ProchookBinary()};
  argv.insert(argv.end(), args.begin(), args.end());
  return Run(argv);
}

// Every file and link under root with its content (or link target).
std::map<std::string, std::string> Tree(const std::string& root) {
  std::map<std::string, std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(root)) {
    const std::string rel = e.path().string().substr(root.size());
    if (e.is_symlink()) {
      out[rel] = "-> " + fs::read_symlink(e.path()).string();
    } else if (e.is_regular_file()) {
      out[rel] = ReadText(e.path().string());
    }
  }
  return out;
}

}  // namespace

TEST_CASE("install writes each engine's piece, once; uninstall removes exactly that") {
  TempDir t;
  const std::string root = t.path();
  const std::string self = ProchookBinary();
  const std::string link = root + fs::path(self).parent_path().string() + "/prochook-runtime";
  t.Write({{"etc/docker/daemon.json", "{\"log-level\": \"warn\", \"runtimes\": {\"other\": {\"path\": \"/x\"}}}\n"}});
  const auto before = Tree(root);

  RunResult dry = Prochook({"install", "--root", root, "--dry-run"});
  CHECK(dry.exit_code == 0);
  CHECK(dry.out.find("podman, crio: would write " + root + "/usr/share/containers/oci/hooks.d/prochook.json") !=
        std::string::npos);
  CHECK(dry.out.find("docker: would write " + root + "/etc/docker/daemon.json") != std::string::npos);
  CHECK(Tree(root) == before);  // a dry run changes nothing

  RunResult first = Prochook({"install", "--root", root});
  INFO("install: " << first.out << first.err);
  CHECK(first.exit_code == 0);
  CHECK(first.out.find("containerd: linked " + link + " -> " + self) != std::string::npos);
  CHECK(ReadText(root + "/usr/share/containers/oci/hooks.d/prochook.json").find("\"path\": \"" + self + "\"") !=
        std::string::npos);
  const std::string daemon = ReadText(root + "/etc/docker/daemon.json");
  CHECK(daemon.find("\"other\"") != std::string::npos);  // kept
  CHECK(daemon.find("\"log-level\": \"warn\"") != std::string::npos);
  CHECK(daemon.find("\"runtimeArgs\": [\n        \"runtime\"\n      ]") != std::string::npos);
  CHECK(ReadText(root + "/etc/containerd/prochook.toml").find("BinaryName = \"" + link.substr(root.size()) + "\"") !=
        std::string::npos);
  CHECK(fs::read_symlink(link) == self);

  const auto installed = Tree(root);
  RunResult second = Prochook({"install", "--root", root});
  CHECK(second.exit_code == 0);
  CHECK(second.out.find("wrote") == std::string::npos);
  CHECK(second.out.find("docker: " + root + "/etc/docker/daemon.json unchanged") != std::string::npos);
  CHECK(Tree(root) == installed);

  RunResult removed = Prochook({"uninstall", "--root", root});
  INFO("uninstall: " << removed.out << removed.err);
  CHECK(removed.exit_code == 0);
  CHECK(removed.out.find("containerd: removed " + link) != std::string::npos);
  auto after = Tree(root);
  CHECK_FALSE(after.count("/usr/share/containers/oci/hooks.d/prochook.json"));
  CHECK_FALSE(after.count("/etc/containerd/prochook.toml"));
  CHECK_FALSE(fs::exists(fs::symlink_status(link)));
  CHECK(after.at("/etc/docker/daemon.json").find("prochook") == std::string::npos);
  CHECK(after.at("/etc/docker/daemon.json").find("\"other\"") != std::string::npos);
  CHECK(Prochook({"uninstall", "--root", root}).out == "nothing to remove\n");
}

TEST_CASE("install refuses, changing nothing, when a piece is not its own to write") {
  TempDir t;
  const std::string root = t.path();
  t.Write({{"etc/docker/daemon.json", "{not json"}});
  auto before = Tree(root);
  RunResult bad = Prochook({"install", "--root", root});
  CHECK(bad.exit_code == 1);
  CHECK(bad.err.find("daemon.json") != std::string::npos);
  CHECK(bad.err.find("nothing was changed") != std::string::npos);
  CHECK(Tree(root) == before);

  // Only the engines asked for; a foreign hooks.d file is never touched.
  TempDir u;
  u.Write({{"usr/share/containers/oci/hooks.d/prochook.json", "{\"hook\": {\"path\": \"/other\"}}"}});
  CHECK(Prochook({"install", "--root", u.path(), "--engines", "podman"}).exit_code == 1);
  RunResult docker = Prochook({"install", "--root", u.path(), "--engines", "docker"});
  CHECK(docker.exit_code == 0);
  auto tree = Tree(u.path());
  CHECK(tree.size() == 2);  // the foreign file and daemon.json
  RunResult un = Prochook({"uninstall", "--root", u.path()});
  CHECK(un.out.find("is not prochook's; left alone") != std::string::npos);
  CHECK(fs::exists(u.path() + "/usr/share/containers/oci/hooks.d/prochook.json"));
  CHECK(Prochook({"install", "--engines", "rkt", "--root", u.path()}).exit_code == 2);
}
