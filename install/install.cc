#include "install/install.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <optional>

#include "common/io.h"
#include "common/text.h"
#include "oci/engine_config.h"
#include "oci/runtime_wrapper.h"

namespace prochook {
namespace {

namespace fs = std::filesystem;

constexpr char kHooksD[] = "/usr/share/containers/oci/hooks.d/prochook.json";
constexpr char kDaemonJson[] = "/etc/docker/daemon.json";
constexpr char kContainerdSnippet[] = "/etc/containerd/prochook.toml";
const std::vector<std::string> kEngines = {"podman", "crio", "docker", "containerd"};

struct Options {
  bool dry_run = false;
  std::string root = "";
  std::vector<std::string> engines = kEngines;
  std::optional<std::string> runtime;
};

// One change to the system; nothing happens until every one is planned.
struct Change {
  enum Kind { kWrite, kRemove, kLink } kind;
  std::string engine;
  std::string path;
  std::string content;  // kWrite: the new bytes; kLink: the target
  std::string note;     // said after the change
};

bool Wants(const Options& o, const char* engine) {
  return std::find(o.engines.begin(), o.engines.end(), engine) != o.engines.end();
}

std::optional<std::string> ReadIfExists(const std::string& path) {
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0) return std::nullopt;
  auto text = ReadFile(path, 16 << 20);
  return text ? std::optional<std::string>(*text) : std::optional<std::string>("");
}

std::optional<std::string> LinkTarget(const std::string& path) {
  std::error_code ec;
  if (!fs::is_symlink(fs::symlink_status(path, ec))) return std::nullopt;
  return fs::read_symlink(path, ec).string();
}

bool Exists(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0;
}

Result<> PlanInstall(const Options& o, const std::string& self, std::vector<Change>* changes,
                     std::vector<std::string>* unchanged) {
  const std::string wrapper = fs::path(self).parent_path() / kRuntimeLinkName;
  if (Wants(o, "podman") || Wants(o, "crio")) {
    const std::string path = o.root + kHooksD, want = RenderHooksD(self);
    auto have = ReadIfExists(path);
    if (have && *have == want) {
      unchanged->push_back("podman, crio: " + path + " unchanged");
    } else if (have && !IsProchookHooksD(*have)) {
      return Error::Msg(path + " exists and is not prochook's; move it away first");
    } else {
      changes->push_back({Change::kWrite, "podman, crio", path, want, ""});
    }
  }
  if (Wants(o, "docker")) {
    const std::string path = o.root + kDaemonJson;
    const std::string have = ReadIfExists(path).value_or("");
    TRY_ASSIGN(std::string want, AddDockerRuntime(have, self, o.runtime), path);
    if (want == have) {
      unchanged->push_back("docker: " + path + " unchanged");
    } else {
      changes->push_back({Change::kWrite, "docker", path, want,
                          "(restart dockerd, then: docker run --runtime prochook ...)"});
    }
  }
  if (Wants(o, "containerd")) {
    const std::string path = o.root + kContainerdSnippet, want = RenderContainerdSnippet(wrapper);
    if (ReadIfExists(path) == want) {
      unchanged->push_back("containerd: " + path + " unchanged");
    } else {
      changes->push_back({Change::kWrite, "containerd", path, want,
                          "(import it from config.toml and restart containerd)"});
    }
    const std::string link = o.root + wrapper;
    auto target = LinkTarget(link);
    if (target && *target == self) {
      unchanged->push_back("containerd: " + link + " unchanged");
    } else if (Exists(link)) {
      return Error::Msg(link + " exists and is not a link to " + self + "; move it away first");
    } else {
      changes->push_back({Change::kLink, "containerd", link, self,
                          "(ctr run --runc-binary " + wrapper + " ...)"});
    }
  }
  return Ok{};
}

Result<> PlanUninstall(const Options& o, const std::string& self, std::vector<Change>* changes,
                       std::vector<std::string>* unchanged) {
  const std::string wrapper = fs::path(self).parent_path() / kRuntimeLinkName;
  if (Wants(o, "podman") || Wants(o, "crio")) {
    const std::string path = o.root + kHooksD;
    auto have = ReadIfExists(path);
    if (have && IsProchookHooksD(*have)) {
      changes->push_back({Change::kRemove, "podman, crio", path, "", ""});
    } else if (have) {
      unchanged->push_back("podman, crio: " + path + " is not prochook's; left alone");
    }
  }
  if (Wants(o, "docker")) {
    const std::string path = o.root + kDaemonJson;
    if (auto have = ReadIfExists(path)) {
      TRY_ASSIGN(std::optional<std::string> want, RemoveDockerRuntime(*have), path);
      if (want) changes->push_back({Change::kWrite, "docker", path, *want, "(runtime \"prochook\" removed)"});
    }
  }
  if (Wants(o, "containerd")) {
    const std::string path = o.root + kContainerdSnippet;
    if (auto have = ReadIfExists(path); have && have->find("prochook") != std::string::npos) {
      changes->push_back({Change::kRemove, "containerd", path, "", ""});
    }
    const std::string link = o.root + wrapper;
    if (LinkTarget(link) == self) changes->push_back({Change::kRemove, "containerd", link, "", ""});
  }
  return Ok{};
}

Result<> Apply(const Change& c) {
  std::error_code ec;
  switch (c.kind) {
    case Change::kWrite: {
      fs::create_directories(fs::path(c.path).parent_path(), ec);
      struct stat st;
      const mode_t mode = ::stat(c.path.c_str(), &st) == 0 ? (st.st_mode & 07777) : 0644;
      return WriteFileAtomic(c.path, c.content, mode);
    }
    case Change::kRemove:
      if (::unlink(c.path.c_str()) != 0 && errno != ENOENT) return Error::Sys("remove " + c.path);
      return Ok{};
    case Change::kLink:
      fs::create_directories(fs::path(c.path).parent_path(), ec);
      if (::symlink(c.content.c_str(), c.path.c_str()) != 0) return Error::Sys("link " + c.path);
      return Ok{};
  }
  return Ok{};
}

std::string Describe(const Change& c, bool dry_run) {
  std::string verb;
  switch (c.kind) {
    case Change::kWrite: verb = dry_run ? "would write " : "wrote "; break;
    case Change::kRemove: verb = dry_run ? "would remove " : "removed "; break;
    case Change::kLink: verb = dry_run ? "would link " : "linked "; break;
  }
  std::string out = c.engine + ": " + verb + c.path;
  if (c.kind == Change::kLink) out += " -> " + c.content;
  if (!c.note.empty()) out += " " + c.note;
  return out;
}

constexpr char kUsage[] =
    "usage: prochook install|uninstall [--dry-run] [--root DIR]\n"
    "                                  [--engines podman,crio,docker,containerd] [--runtime PATH]\n";

}  // namespace

int RunInstall(const std::vector<std::string>& args, bool uninstall, const std::string& self) {
  Options o;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    const bool has_value = i + 1 < args.size();
    if (a == "--dry-run") {
      o.dry_run = true;
    } else if (a == "--root" && has_value) {
      o.root = args[++i];
      while (!o.root.empty() && o.root.back() == '/') o.root.pop_back();
    } else if (a == "--engines" && has_value) {
      o.engines = SplitToStrings(args[++i], ',');
      for (const auto& e : o.engines) {
        if (std::find(kEngines.begin(), kEngines.end(), e) == kEngines.end()) {
          fprintf(stderr, "prochook: unknown engine \"%s\"\n%s", e.c_str(), kUsage);
          return 2;
        }
      }
    } else if (a == "--runtime" && has_value) {
      o.runtime = args[++i];
    } else if (a == "-h" || a == "--help") {
      fputs(kUsage, stdout);
      return 0;
    } else {
      fprintf(stderr, "prochook: unexpected argument \"%s\"\n%s", a.c_str(), kUsage);
      return 2;
    }
  }
  std::vector<Change> changes;
  std::vector<std::string> unchanged;
  Result<> planned = uninstall ? PlanUninstall(o, self, &changes, &unchanged)
                               : PlanInstall(o, self, &changes, &unchanged);
  if (!planned) {
    fprintf(stderr, "prochook: %s; nothing was changed\n", planned.error().message().c_str());
    return 1;
  }
  for (const Change& c : changes) {
    if (!o.dry_run) {
      if (auto r = Apply(c); !r) {
        fprintf(stderr, "prochook: %s\n", r.error().message().c_str());
        return 1;
      }
    }
    printf("%s\n", Describe(c, o.dry_run).c_str());
  }
  for (const auto& u : unchanged) printf("%s\n", u.c_str());
  if (changes.empty() && unchanged.empty()) printf("nothing to %s\n", uninstall ? "remove" : "install");
  return 0;
}

}  // namespace prochook
