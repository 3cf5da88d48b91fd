// The runtime handler "prochook" in containerd's own config.toml. Not a
// drop-in: containerd 1.x merges an imported file by replacing each plugin
// section it names whole, so a drop-in with the CRI plugin's runtime would
// drop everything else the operator configured for CRI (seen here with
// Debian 12's containerd 1.6: cni bin_dir back to its default, and the
// runc runtime gone, so the CRI plugin failed to load). `prochook install`
// appends one marked block of tables to config.toml, and `prochook
// uninstall` removes exactly that block, so the operator's file comes back
// byte for byte.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"

namespace prochook {

// The text with prochook's block at its end (wrapper: the runc shim's
// BinaryName), or nullopt when the same block is already there. Where
// config.toml defines no runtime of its own, containerd's default one
// (runc) is in the block too: a file that names any runtime replaces
// containerd's default set. An error when the file is not `version = 2`,
// names a runtime "prochook" of its own, or does not end with a newline.
Result<std::optional<std::string>> AddContainerdRuntime(std::string_view config, const std::string& wrapper);

// The text without prochook's block, or nullopt when it has none.
std::optional<std::string> RemoveContainerdRuntime(std::string_view config);

}  // namespace prochook
