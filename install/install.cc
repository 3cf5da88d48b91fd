#include "install/install.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <optional>

#include "common/text.h"
#include "install/config_file.h"
#include "install/containerd_runtime.h"
#include "oci/engine_config.h"
#include "oci/runtime_wrapper.h"

namespace prochook {
namespace {

namespace fs = std::filesystem;

constexpr char kHooksD[] = "/usr/share/containers/oci/hooks.d/prochook.json";
constexpr char kDaemonJson[] = "/etc/docker/daemon.json";
constexpr char kContainerdSnippet[] = "/etc/containerd/prochook.toml";
constexpr char kContainerdConfig[] = "/etc/containerd/config.toml";
constexpr char kPodmanRuntime[] = "/etc/containers/containers.conf.d/prochook.conf";
const std::vector<std::string> kEngines = {"podman", "crio", "docker", "containerd"};

struct Options {
  bool dry_run = false;
  std::string root = "";
  std::vector<std::string> engines = kEngines;
  std::optional<std::string> runtime;
};

// One change to the system; an engine's changes are all planned before any
// of them is made.
struct Change {
  enum Kind { kWrite, kRemove, kLink } kind;
  std::string engine;
  std::string path;
  std::string content;  // kWrite: the new bytes; kLink: the target
  std::string note;     // said after the change
  std::string backup = "";  // kWrite: where the original is copied first, once ("" for none)
};

bool Wants(const Options& o, const char* engine) {
  return std::find(o.engines.begin(), o.engines.end(), engine) != o.engines.end();
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

// What one engine needs: its changes and what already is as it should be.
struct EnginePlan {
  std::string engine;
  std::vector<Change> changes;
  std::vector<std::string> unchanged;
};

// The backup of the operator's daemon.json, made before the first change.
std::string BackupOf(const std::string& path) { return path + ".prochook-backup"; }

const char* Command(bool uninstall) { return uninstall ? "uninstall" : "install"; }

// A file prochook cannot read as a file, with what to do about it.
Result<ConfigFile> ReadOrSay(const std::string& path, bool uninstall) {
  auto have = ReadConfigFile(path);
  if (!have) {
    return Error(0, have.error().message() + "; make it a regular file prochook can read (or move it away), then run prochook " +
                        Command(uninstall) + " again");
  }
  return have;
}

Result<EnginePlan> PlanHooksD(const Options& o, const std::string& self, bool uninstall) {
  EnginePlan p{"podman, crio", {}, {}};
  const std::string path = o.root + kHooksD, want = RenderHooksD(self);
  auto read = ReadOrSay(path, uninstall);
  if (!read) return read.error();
  const ConfigFile& have = *read;
  const bool ours = have.exists && IsProchookHooksD(have.text);
  if (uninstall) {
    if (ours) p.changes.push_back({Change::kRemove, p.engine, path, "", ""});
    if (have.exists && !ours) p.unchanged.push_back(p.engine + ": " + path + " is not prochook's; left alone");
  } else if (have.exists && have.text == want) {
    p.unchanged.push_back(p.engine + ": " + path + " unchanged");
  } else if (have.exists && !ours) {
    return Error::Msg(path + " exists and is not prochook's; move it away first");
  } else {
    p.changes.push_back({Change::kWrite, p.engine, path, want, ""});
  }
  return p;
}

Result<EnginePlan> PlanDocker(const Options& o, const std::string& self, bool uninstall) {
  EnginePlan p{"docker", {}, {}};
  const std::string path = o.root + kDaemonJson;
  auto read = ReadOrSay(path, uninstall);
  if (!read) return read.error();
  const ConfigFile& have = *read;
  const std::string fix = "; fix it, then run prochook " + std::string(Command(uninstall)) + " again";
  if (uninstall) {
    if (!have.exists) return p;
    auto want = RemoveDockerRuntime(have.text);
    if (!want) return Error::Msg(path + ": " + want.error().message() + fix);
    if (*want) {
      p.changes.push_back({Change::kWrite, p.engine, path, **want, "(runtime \"prochook\" removed)", BackupOf(path)});
    }
    return p;
  }
  auto added = AddDockerRuntime(have.text, self, o.runtime);
  if (!added) return Error::Msg(path + ": " + added.error().message() + fix);
  const std::string& want = *added;
  if (have.exists && want == have.text) {
    p.unchanged.push_back(p.engine + ": " + path + " unchanged");
  } else {
    p.changes.push_back({Change::kWrite, p.engine, path, want,
                         "(restart dockerd, then: docker run --runtime prochook ...)", BackupOf(path)});
  }
  return p;
}

std::string WrapperPath(const std::string& self) { return fs::path(self).parent_path() / kRuntimeLinkName; }

// The prochook-runtime link next to prochook, which the containerd
// snippet and the podman drop-in both name: made by whichever is
// installed, removed once neither remains (others_use: the other's file
// stays).
Result<> PlanRuntimeLink(const Options& o, const std::string& self, bool uninstall, bool others_use,
                         EnginePlan& p) {
  const std::string link = o.root + WrapperPath(self);
  const std::optional<std::string> target = LinkTarget(link);
  if (uninstall) {
    if (target == self && !others_use) p.changes.push_back({Change::kRemove, p.engine, link, "", ""});
    return Ok{};
  }
  if (target == self) {
    p.unchanged.push_back(p.engine + ": " + link + " unchanged");
  } else if (Exists(link)) {
    return Error::Msg(link + " exists and is not a link to " + self + "; move it away first");
  } else {
    p.changes.push_back({Change::kLink, p.engine, link, self, ""});
  }
  return Ok{};
}

// A file that is prochook's own snippet (IsProchookSnippet): written,
// left as it is, or removed.
Result<> PlanSnippet(const std::string& path, const std::string& want, const std::string& note, bool uninstall,
                     EnginePlan& p) {
  auto read = ReadOrSay(path, uninstall);
  if (!read) return read.error();
  const ConfigFile& have = *read;
  const bool ours = have.exists && IsProchookSnippet(have.text);
  if (uninstall) {
    if (ours) p.changes.push_back({Change::kRemove, p.engine, path, "", ""});
  } else if (have.exists && have.text == want) {
    p.unchanged.push_back(p.engine + ": " + path + " unchanged");
  } else if (have.exists && !ours) {
    return Error::Msg(path + " exists and is not prochook's; move it away first");
  } else {
    p.changes.push_back({Change::kWrite, p.engine, path, want, note});
  }
  return Ok{};
}

// Whether the other user of the runtime link stays configured after this
// run: one of its files names this link (not another prochook's, such as
// a package's /usr/bin/prochook-runtime). A file that cannot be read
// counts as naming it.
bool LinkStaysInUse(const Options& o, const std::string& self, bool uninstall, const char* other,
                    const std::vector<const char*>& other_files) {
  if (!uninstall || Wants(o, other)) return false;
  return std::any_of(other_files.begin(), other_files.end(), [&](const char* file) {
    auto have = ReadConfigFile(o.root + file);
    return !have || (have->exists && have->text.find("\"" + WrapperPath(self) + "\"") != std::string::npos);
  });
}

// The runtime handler in config.toml itself (install/containerd_runtime.h
// says why not a drop-in).
Result<> PlanContainerdRuntime(const Options& o, const std::string& self, bool uninstall, const ConfigFile& have,
                               EnginePlan& p) {
  const std::string path = o.root + kContainerdConfig;
  if (uninstall) {
    if (auto want = RemoveContainerdRuntime(have.text)) {
      p.changes.push_back({Change::kWrite, p.engine, path, *want, "(runtime handler \"prochook\" removed; restart containerd)"});
    }
    return Ok{};
  }
  auto want = AddContainerdRuntime(have.text, WrapperPath(self));
  if (!want) return Error::Msg(path + " " + want.error().message() + ", then run prochook install again");
  if (!*want) {
    p.unchanged.push_back(p.engine + ": " + path + " unchanged");
  } else {
    p.changes.push_back({Change::kWrite, p.engine, path, **want,
                         "(runtime handler \"prochook\"; restart containerd, then: runtimeClassName prochook, or ctr run "
                         "--runc-binary " + WrapperPath(self) + " ...)"});
  }
  return Ok{};
}

// With a config.toml: the runtime handler in it, after the link it names
// (removed before it). Without one (containerd's defaults): the snippet
// for the operator to merge.
Result<EnginePlan> PlanContainerd(const Options& o, const std::string& self, bool uninstall) {
  EnginePlan p{"containerd", {}, {}};
  auto config = ReadOrSay(o.root + kContainerdConfig, uninstall);
  if (!config) return config.error();
  if (config->exists && uninstall) {
    if (auto r = PlanContainerdRuntime(o, self, uninstall, *config, p); !r) return r.error();
  }
  if (!config->exists || uninstall) {
    const std::string note = "(put its tables in config.toml and restart containerd; ctr run --runc-binary " +
                             WrapperPath(self) + " ...)";
    if (auto r = PlanSnippet(o.root + kContainerdSnippet, RenderContainerdSnippet(WrapperPath(self)), note,
                             uninstall, p); !r) {
      return r.error();
    }
  }
  if (auto r = PlanRuntimeLink(o, self, uninstall, LinkStaysInUse(o, self, uninstall, "podman", {kPodmanRuntime}), p); !r) {
    return r.error();
  }
  if (config->exists && !uninstall) {
    if (auto r = PlanContainerdRuntime(o, self, uninstall, *config, p); !r) return r.error();
  }
  return p;
}

// podman: the wrapper as a runtime of its own, so `podman --runtime
// prochook` gets the clock and sysinfo(2) (hooks.d serves the files).
Result<EnginePlan> PlanPodmanRuntime(const Options& o, const std::string& self, bool uninstall) {
  EnginePlan p{"podman", {}, {}};
  if (auto r = PlanSnippet(o.root + kPodmanRuntime, RenderPodmanRuntime(WrapperPath(self)),
                           "(podman --runtime prochook run ...)", uninstall, p); !r) {
    return r.error();
  }
  if (auto r = PlanRuntimeLink(o, self, uninstall, LinkStaysInUse(o, self, uninstall, "containerd", {kContainerdSnippet, kContainerdConfig}), p);
      !r) {
    return r.error();
  }
  return p;
}

// One plan per engine asked for; an engine that cannot be planned is an
// error of its own and leaves the others to be done.
std::vector<Result<EnginePlan>> Plan(const Options& o, const std::string& self, bool uninstall) {
  std::vector<Result<EnginePlan>> plans;
  auto add = [&](const char* engine, Result<EnginePlan> plan) {
    if (!plan) plan = Error::Msg(std::string(engine) + ": " + plan.error().message() + " (nothing changed for " + engine + ")");
    plans.push_back(std::move(plan));
  };
  if (Wants(o, "podman") || Wants(o, "crio")) add("podman, crio", PlanHooksD(o, self, uninstall));
  if (Wants(o, "podman")) add("podman", PlanPodmanRuntime(o, self, uninstall));
  if (Wants(o, "docker")) add("docker", PlanDocker(o, self, uninstall));
  if (Wants(o, "containerd")) add("containerd", PlanContainerd(o, self, uninstall));
  // The runtime link is planned by both engines that name it: done once.
  std::vector<std::string> seen;
  for (Result<EnginePlan>& plan : plans) {
    if (!plan) continue;
    std::erase_if(plan->changes, [&](const Change& c) {
      if (std::find(seen.begin(), seen.end(), c.path) != seen.end()) return true;
      seen.push_back(c.path);
      return false;
    });
  }
  return plans;
}

Result<> Apply(const Change& c) {
  std::error_code ec;
  switch (c.kind) {
    case Change::kWrite:
      fs::create_directories(fs::path(c.path).parent_path(), ec);
      return ReplaceConfigFile(c.path, c.content, c.backup);
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
  bool failed = false;
  bool any = false;
  for (Result<EnginePlan>& plan : Plan(o, self, uninstall)) {
    if (!plan) {
      // Said on stderr with what to do; the engine's files stay as they are.
      fprintf(stderr, "prochook: %s\n", plan.error().message().c_str());
      failed = true;
      continue;
    }
    for (const Change& c : plan->changes) {
      if (!o.dry_run) {
        if (auto r = Apply(c); !r) {
          fprintf(stderr, "prochook: %s: %s\n", c.engine.c_str(), r.error().message().c_str());
          failed = true;
          break;  // the engine's later changes depend on this one
        }
      }
      printf("%s\n", Describe(c, o.dry_run).c_str());
      any = true;
    }
    for (const auto& u : plan->unchanged) printf("%s\n", u.c_str());
    any = any || !plan->unchanged.empty();
  }
  if (!any && !failed) printf("nothing to %s\n", uninstall ? "remove" : "install");
  return failed ? 1 : 0;
}

}  // namespace prochook
