// `prochook install` / `prochook uninstall`: writes (removes) what each
// engine needs to run prochook, printing every change. Plans everything
// first and changes nothing if any part cannot be done; idempotent.
#pragma once

#include <string>
#include <vector>

namespace prochook {

// args after the subcommand: [--dry-run] [--root DIR] [--engines LIST]
// [--runtime PATH]. self: prochook's absolute path. Returns the exit code.
int RunInstall(const std::vector<std::string>& args, bool uninstall, const std::string& self);

}  // namespace prochook
