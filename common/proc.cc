#include "common/proc.h"

#include <unistd.h>

#include "common/io.h"
#include "common/text.h"
#include "common/timens.h"

namespace prochook {

Result<uint64_t> ParseStartTime(std::string_view stat) {
  // comm (field 2) may hold spaces and ')': fields restart after the last ')'.
  size_t paren = stat.rfind(')');
  if (paren == std::string_view::npos) return Error::Msg("/proc/<pid>/stat: no comm");
  auto f = SplitFields(stat.substr(paren + 1));
  // f[0] is field 3 (state), so field 22 is f[19].
  if (f.size() < 20) return Error::Msg("/proc/<pid>/stat: too few fields");
  auto v = ParseU64(f[19]);
  if (!v) return Error::Msg("/proc/<pid>/stat: bad starttime");
  return *v;
}

Result<uint64_t> HostStartTime(std::string_view stat) {
  TRY_ASSIGN(uint64_t shown, ParseStartTime(stat), "start time");
  static const int64_t ticks = ::sysconf(_SC_CLK_TCK);
  return shown - static_cast<uint64_t>(OffsetTicks(OwnBoottimeOffset(), ticks));
}

Result<uint64_t> ReadProcessStartTime(pid_t pid) {
  TRY_ASSIGN(std::string text, ReadFile("/proc/" + std::to_string(pid) + "/stat"),
             "process " + std::to_string(pid));
  return HostStartTime(text);
}

}  // namespace prochook
