// `prochook install` / `prochook uninstall`: writes (removes) what each
// engine needs to run prochook, printing every change; idempotent. Each
// engine is planned before any of its files changes: one whose files
// prochook cannot read and parse (or that are not prochook's to replace)
// is left exactly as it is, with the reason and what to do on stderr,
// while the other engines are done; the exit code is then 1. Files are
// replaced atomically (install/config_file.h); daemon.json is first copied
// to daemon.json.prochook-backup, once.
#pragma once

#include <string>
#include <vector>

namespace prochook {

// args after the subcommand: [--dry-run] [--root DIR] [--engines LIST]
// [--runtime PATH]. self: prochook's absolute path. Returns the exit code.
int RunInstall(const std::vector<std::string>& args, bool uninstall, const std::string& self);

}  // namespace prochook
