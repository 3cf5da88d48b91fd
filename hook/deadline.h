// The hook's own deadline. A runtime kills a hook that runs past the
// timeout of its config.json entry and fails the container's start, which
// would break fail-open. So the hook gives up by itself when half of that
// timeout has passed, leaving the other half to clean up and exit.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "oci/config.h"

namespace prochook {

// The runtime's timeout for the running executable: the smallest timeout
// of the setup hook entries whose path, or an absolute path in whose
// arguments (a wrapper: sh -c "exec /usr/bin/prochook hook"), is this
// executable. nullopt when none is set.
std::optional<std::chrono::seconds> OwnHookTimeout(const std::vector<OciHook>& hooks);

class Deadline {
 public:
  using Clock = std::chrono::steady_clock;

  Deadline() = default;  // never passes
  // Half of `timeout` after `start`; no timeout: never passes.
  Deadline(Clock::time_point start, std::optional<std::chrono::seconds> timeout);

  bool Passed() const { return at_ && Clock::now() >= *at_; }
  // An error naming the phase not started when the deadline has passed.
  Result<> Check(const char* next_phase) const;
  Clock::time_point At() const { return at_.value_or(Clock::time_point::max()); }

 private:
  std::optional<Clock::time_point> at_;
  std::chrono::seconds timeout_{0};
};

}  // namespace prochook
