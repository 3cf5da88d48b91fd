#include "install/containerd_runtime.h"

namespace prochook {
namespace {

constexpr char kBegin[] = "# prochook: runtime handler \"prochook\" (added by prochook install, removed by prochook uninstall)\n";
constexpr char kEnd[] = "# prochook: end\n";
constexpr char kRuntimes[] = "[plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.";

std::string Block(const std::string& wrapper, bool with_runc) {
  const std::string runtimes = kRuntimes;
  std::string out = kBegin;
  if (with_runc) out += runtimes + "runc]\n  runtime_type = \"io.containerd.runc.v2\"\n";
  out += runtimes + "prochook]\n  runtime_type = \"io.containerd.runc.v2\"\n" + runtimes +
         "prochook.options]\n    BinaryName = \"" + wrapper + "\"\n";
  return out + kEnd;
}

// Where prochook's block starts and ends (past its last newline), if the
// text has one: its first line at the start of a line, its last after it.
std::optional<std::pair<size_t, size_t>> FindBlock(std::string_view config) {
  size_t begin = config.find(kBegin);
  while (begin != std::string_view::npos && begin > 0 && config[begin - 1] != '\n') begin = config.find(kBegin, begin + 1);
  if (begin == std::string_view::npos) return std::nullopt;
  size_t end = config.find(kEnd, begin);
  while (end != std::string_view::npos && config[end - 1] != '\n') end = config.find(kEnd, end + 1);
  if (end == std::string_view::npos) return std::nullopt;
  return std::pair{begin, end + std::string_view(kEnd).size()};
}

std::string_view Trimmed(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

// Whether a top-level `version = 2` comes before the first table.
bool IsVersion2(std::string_view config) {
  for (size_t at = 0; at < config.size();) {
    const size_t end = std::min(config.find('\n', at), config.size());
    const std::string_view line = Trimmed(config.substr(at, end - at));
    if (!line.empty() && line[0] == '[') return false;
    if (line.rfind("version", 0) == 0) {
      const size_t eq = line.find('=');
      if (eq != std::string_view::npos && Trimmed(line.substr(7, eq - 7)).empty()) {
        return Trimmed(line.substr(eq + 1)).substr(0, 1) == "2";
      }
    }
    at = end + 1;
  }
  return false;
}

}  // namespace

Result<std::optional<std::string>> AddContainerdRuntime(std::string_view config, const std::string& wrapper) {
  std::string rest(config);
  const auto block = FindBlock(config);
  if (block) rest.erase(block->first, block->second - block->first);
  if (!IsVersion2(rest)) return Error::Msg("is not a version = 2 config (containerd 1.x names its plugins differently there)");
  if (rest.find(std::string(kRuntimes) + "prochook]") != std::string::npos) {
    return Error::Msg("has a runtime \"prochook\" of its own; remove it or leave prochook's runtime to it");
  }
  const std::string want = Block(wrapper, rest.find(kRuntimes) == std::string::npos);
  if (block && config.substr(block->first, block->second - block->first) == want) return std::optional<std::string>();
  if (block) {
    rest.insert(block->first, want);
    return std::optional<std::string>(std::move(rest));
  }
  if (!rest.empty() && rest.back() != '\n') return Error::Msg("does not end with a newline");
  return std::optional<std::string>(rest + want);
}

std::optional<std::string> RemoveContainerdRuntime(std::string_view config) {
  const auto block = FindBlock(config);
  if (!block) return std::nullopt;
  std::string out(config);
  out.erase(block->first, block->second - block->first);
  return out;
}

}  // namespace prochook
