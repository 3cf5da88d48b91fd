// containerd reads a drop-in only when config.toml names it in its
// top-level `imports` array. `prochook install` adds one marked line,
// `imports = ["<snippet>"]`, and `prochook uninstall` removes exactly
// that line, so the operator's config.toml comes back byte for byte. A
// config.toml with imports of its own is not edited (the operator adds the
// snippet to them by hand): growing and shrinking an array that is not
// prochook's could not be undone exactly.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"

namespace prochook {

// The text with prochook's import line added before the first table
// (top-level keys must come before it), or nullopt when the file already
// imports snippet. An error when the file is not `version = 2` (1.x
// plugin names differ), already has an `imports` key, or ends without a
// newline where the line would go.
Result<std::optional<std::string>> AddContainerdImport(std::string_view config, const std::string& snippet);

// The text without prochook's import line, or nullopt when it has none.
std::optional<std::string> RemoveContainerdImport(std::string_view config, const std::string& snippet);

}  // namespace prochook
