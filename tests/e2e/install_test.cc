// `prochook install` and `uninstall` into a scratch root, as a user runs
// them: what they print, what they write, idempotence, dry runs, refusals.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <vector>

#include <nlohmann/json.hpp>

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
  // One link for both engines that name it (podman's runtime, containerd's shim).
  CHECK(first.out.find("podman: linked " + link + " -> " + self) != std::string::npos);
  CHECK(first.out.find("linked") == first.out.rfind("linked"));
  CHECK(ReadText(root + "/etc/containers/containers.conf.d/prochook.conf")
            .find("[engine.runtimes]\nprochook = [\"" + link.substr(root.size()) + "\"]\n") != std::string::npos);
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

  // containerd alone: the link stays while podman's runtime names it.
  RunResult containerd = Prochook({"uninstall", "--root", root, "--engines", "containerd"});
  CHECK(containerd.exit_code == 0);
  CHECK(containerd.out == "containerd: removed " + root + "/etc/containerd/prochook.toml\n");
  CHECK(fs::read_symlink(link) == self);

  RunResult removed = Prochook({"uninstall", "--root", root});
  INFO("uninstall: " << removed.out << removed.err);
  CHECK(removed.exit_code == 0);
  CHECK(removed.out.find("podman: removed " + link) != std::string::npos);
  CHECK(removed.out.find("podman: removed " + root + "/etc/containers/containers.conf.d/prochook.conf") !=
        std::string::npos);
  auto after = Tree(root);
  CHECK_FALSE(after.count("/usr/share/containers/oci/hooks.d/prochook.json"));
  CHECK_FALSE(after.count("/etc/containerd/prochook.toml"));
  CHECK_FALSE(after.count("/etc/containers/containers.conf.d/prochook.conf"));
  CHECK_FALSE(fs::exists(fs::symlink_status(link)));
  CHECK(after.at("/etc/docker/daemon.json").find("prochook") == std::string::npos);
  CHECK(after.at("/etc/docker/daemon.json").find("\"other\"") != std::string::npos);
  CHECK(Prochook({"uninstall", "--root", root}).out == "nothing to remove\n");
}

// Every file and link under root whose name says it is a temporary.
std::vector<std::string> Temporaries(const std::string& root) {
  std::vector<std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(root)) {
    if (e.path().filename().string().find("tmp") != std::string::npos) out.push_back(e.path().string());
  }
  return out;
}

TEST_CASE("install leaves a daemon.json it cannot read or parse byte for byte, says why, and does the other engines") {
  struct Case {
    const char* what;
    std::function<void(const std::string&)> make;  // puts the fault at the path
    const char* says;
  };
  auto write = [](const char* text) {
    return [text](const std::string& p) { std::ofstream(p, std::ios::binary) << text; };
  };
  const Case cases[] = {
      {"invalid JSON", write("{\"log-level\": \"warn\",\n \"debug\": tru}\n"), "not valid JSON: parse error at line 2"},
      {"not an object", write("[\"log-level\"]\n"), "not a JSON object"},
      {"runtimes not an object", write("{\"runtimes\": []}\n"), "\"runtimes\" is not an object"},
      {"a directory", [](const std::string& p) { fs::create_directories(p + "/conf"); }, "is a directory, not a file"},
      {"a dangling symbolic link", [](const std::string& p) { fs::create_symlink("/nonexistent/daemon.json", p); },
       "is a symbolic link to /nonexistent/daemon.json (which does not exist)"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.what);
    TempDir t;
    const std::string root = t.path(), path = root + "/etc/docker/daemon.json";
    fs::create_directories(root + "/etc/docker");
    c.make(path);
    const auto before = Tree(root);
    const auto status = fs::symlink_status(path).type();
    RunResult r = Prochook({"install", "--root", root});
    INFO(r.out << r.err);
    CHECK(r.exit_code == 1);
    CHECK(r.err.find("prochook: docker: " + path) == 0);
    CHECK(r.err.find(c.says) != std::string::npos);
    CHECK(r.err.find("then run prochook install again (nothing changed for docker)") != std::string::npos);
    // Left as it was; the other engines are installed.
    CHECK(fs::symlink_status(path).type() == status);
    auto after = Tree(root);
    for (const auto& [rel, content] : before) CHECK(after[rel] == content);
    CHECK(after.count("/usr/share/containers/oci/hooks.d/prochook.json"));
    CHECK(after.count("/etc/containerd/prochook.toml"));
    CHECK_FALSE(after.count("/etc/docker/daemon.json.prochook-backup"));
    CHECK(Temporaries(root).empty());
    // Uninstall refuses it the same way and removes the rest.
    RunResult un = Prochook({"uninstall", "--root", root});
    CHECK(un.exit_code == 1);
    CHECK(un.err.find("then run prochook uninstall again") != std::string::npos);
    CHECK(fs::symlink_status(path).type() == status);
    CHECK_FALSE(fs::exists(root + "/etc/containerd/prochook.toml"));
  }
}

TEST_CASE("install keeps every key of a valid daemon.json, with its mode, and backs it up once") {
  TempDir t;
  const std::string root = t.path(), path = root + "/etc/docker/daemon.json";
  const std::string original = "{\"log-level\": \"warn\", \"data-root\": \"/srv/docker\", \"runtimes\": {\"other\": {\"path\": \"/x\"}}}";
  t.Write({{"etc/docker/daemon.json", original}});
  fs::permissions(path, fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read);
  RunResult r = Prochook({"install", "--root", root, "--engines", "docker"});
  INFO(r.out << r.err);
  CHECK(r.exit_code == 0);
  auto j = nlohmann::json::parse(ReadText(path));
  CHECK(j["log-level"] == "warn");
  CHECK(j["data-root"] == "/srv/docker");
  CHECK(j["runtimes"]["other"]["path"] == "/x");
  CHECK(j["runtimes"]["prochook"]["runtimeArgs"] == nlohmann::json({"runtime"}));
  CHECK(fs::status(path).permissions() == (fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read));
  CHECK(ReadText(path + ".prochook-backup") == original);
  CHECK(Temporaries(root).empty());

  // Uninstall edits it again; the backup stays the file before prochook.
  CHECK(Prochook({"uninstall", "--root", root, "--engines", "docker"}).exit_code == 0);
  CHECK(nlohmann::json::parse(ReadText(path)) == nlohmann::json::parse(original));
  CHECK(ReadText(path + ".prochook-backup") == original);
  CHECK(Temporaries(root).empty());
}

TEST_CASE("install refuses pieces that are not its own to write, and only those") {
  // A foreign hooks.d file is never touched; docker is still done.
  TempDir u;
  u.Write({{"usr/share/containers/oci/hooks.d/prochook.json", "{\"hook\": {\"path\": \"/other\"}}"}});
  RunResult podman = Prochook({"install", "--root", u.path(), "--engines", "podman,docker"});
  CHECK(podman.exit_code == 1);
  CHECK(podman.err.find("is not prochook's; move it away first") != std::string::npos);
  CHECK(podman.out.find("docker: wrote") != std::string::npos);
  auto tree = Tree(u.path());
  // The foreign file, daemon.json, podman's runtime drop-in (not blocked
  // by hooks.d) and its link.
  CHECK(tree.size() == 4);
  CHECK(tree.count("/etc/containers/containers.conf.d/prochook.conf"));
  CHECK(tree.at("/usr/share/containers/oci/hooks.d/prochook.json") == "{\"hook\": {\"path\": \"/other\"}}");
  RunResult un = Prochook({"uninstall", "--root", u.path()});
  CHECK(un.out.find("is not prochook's; left alone") != std::string::npos);
  CHECK(fs::exists(u.path() + "/usr/share/containers/oci/hooks.d/prochook.json"));
  CHECK(Prochook({"install", "--engines", "rkt", "--root", u.path()}).exit_code == 2);

  // An operator's own /etc/containerd/prochook.toml is not overwritten.
  TempDir v;
  v.Write({{"etc/containerd/prochook.toml", "# mine\nversion = 2\n"}});
  RunResult containerd = Prochook({"install", "--root", v.path(), "--engines", "containerd"});
  CHECK(containerd.exit_code == 1);
  CHECK(containerd.err.find("prochook.toml exists and is not prochook's") != std::string::npos);
  CHECK(ReadText(v.path() + "/etc/containerd/prochook.toml") == "# mine\nversion = 2\n");
}

TEST_CASE("the runtime link stays exactly while another engine's file names it") {
  TempDir t;
  const std::string root = t.path(), self = ProchookBinary();
  const std::string link = root + fs::path(self).parent_path().string() + "/prochook-runtime";
  // containerd's handler in config.toml names the link: podman's uninstall keeps it.
  t.Write({{"etc/containerd/config.toml", "version = 2\n"}});
  REQUIRE(Prochook({"install", "--root", root, "--engines", "containerd,podman"}).exit_code == 0);
  CHECK(ReadText(root + "/etc/containerd/config.toml").find("\"" + link.substr(root.size()) + "\"") != std::string::npos);
  REQUIRE(Prochook({"uninstall", "--root", root, "--engines", "podman"}).exit_code == 0);
  CHECK(fs::read_symlink(link) == self);
  // Another prochook's podman drop-in (a package's, naming its own link) does not keep it.
  t.Write({{"etc/containers/containers.conf.d/prochook.conf",
            "[engine.runtimes]\nprochook = [\"/usr/bin/prochook-runtime\"]\n"}});
  RunResult un = Prochook({"uninstall", "--root", root, "--engines", "containerd"});
  INFO(un.out << un.err);
  CHECK(un.exit_code == 0);
  CHECK(un.out.find("containerd: removed " + link) != std::string::npos);
  CHECK_FALSE(fs::exists(fs::symlink_status(link)));
  CHECK(ReadText(root + "/etc/containerd/config.toml") == "version = 2\n");
}
