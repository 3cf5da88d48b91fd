// The OCI state document a runtime writes to a hook's stdin
// (runtime-spec runtime.md "State"). Only the fields prochook uses.
#pragma once

#include <sys/types.h>

#include <map>
#include <string>
#include <string_view>

#include "common/result.h"

namespace prochook {

struct OciState {
  std::string oci_version;
  std::string id;
  std::string status;   // "creating" (runc), "created" (crun), "stopped" (poststop)
  pid_t pid = 0;        // host pid of the container init; 0 when stopped
  std::string bundle;   // absolute path of the bundle directory
  std::map<std::string, std::string> annotations;
};

// Lenient: unknown fields are ignored, types are checked. id and bundle are
// required; pid is required unless status is "stopped".
Result<OciState> ParseState(std::string_view text);

}  // namespace prochook
