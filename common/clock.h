// CLOCK_MONOTONIC in milliseconds: for timeouts and periods, which must not
// jump with the wall clock.
#pragma once

#include <time.h>

#include <cstdint>

namespace prochook {

inline int64_t MonotonicMs() {
  struct timespec ts;
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

}  // namespace prochook
