// Adding prochook's hooks to a bundle's config.json, for engines that have
// no hooks.d (Docker, containerd): the runtime wrapper edits the bundle
// before the real runtime reads it.
#pragma once

#include <string>
#include <string_view>

#include "common/result.h"

namespace prochook {

enum class HookEdit {
  kAdded,      // hooks added
  kPresent,    // prochook's hooks were already there
  kDisabled,   // io.prochook.disable=true: left alone
};

struct EditedConfig {
  HookEdit edit;
  std::string text;  // the new config.json when kAdded, else empty
};

// Pure. Appends {"path": binary, "args": ["prochook", "hook"]} to
// hooks.createRuntime and hooks.poststop, keeping every other field and
// hook (key order included). A hook already pointing at `binary` or with
// args starting "prochook", "hook" counts as present.
Result<EditedConfig> AddProchookHooks(std::string_view config_json, const std::string& binary);

}  // namespace prochook
