#include "install/containerd_imports.h"

#include <vector>

namespace prochook {
namespace {

// The whole line prochook adds; the marker is how uninstall knows it.
std::string ImportLine(const std::string& snippet) {
  return "imports = [\"" + snippet + "\"]  # added by prochook install, removed by prochook uninstall\n";
}

std::string_view Trimmed(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

// The top-level key a line sets ("" for none): the part before '=' of a
// line that is not a comment or a table header.
std::string_view KeyOf(std::string_view line) {
  line = Trimmed(line);
  if (line.empty() || line[0] == '#' || line[0] == '[') return {};
  const size_t eq = line.find('=');
  return eq == std::string_view::npos ? std::string_view{} : Trimmed(line.substr(0, eq));
}

struct TopLevel {
  size_t first_table = std::string_view::npos;  // offset of the first table header line
  std::vector<std::string_view> lines;          // the lines before it
};

TopLevel ReadTopLevel(std::string_view text) {
  TopLevel t;
  for (size_t at = 0; at < text.size();) {
    size_t end = text.find('\n', at);
    const std::string_view line = text.substr(at, end == std::string_view::npos ? std::string_view::npos : end - at);
    if (!Trimmed(line).empty() && Trimmed(line)[0] == '[') {
      t.first_table = at;
      break;
    }
    t.lines.push_back(line);
    if (end == std::string_view::npos) break;
    at = end + 1;
  }
  return t;
}

}  // namespace

Result<std::optional<std::string>> AddContainerdImport(std::string_view config, const std::string& snippet) {
  const TopLevel top = ReadTopLevel(config);
  bool version2 = false;
  for (std::string_view line : top.lines) {
    const std::string_view key = KeyOf(line);
    if (key == "version") version2 = Trimmed(line.substr(line.find('=') + 1)).substr(0, 1) == "2";
    if (key == "imports") {
      if (line.find("\"" + snippet + "\"") != std::string_view::npos) return std::optional<std::string>();
      return Error::Msg("has imports of its own; add \"" + snippet + "\" to them by hand");
    }
  }
  if (!version2) return Error::Msg("is not a version = 2 config (containerd 1.x names its plugins differently there)");
  const size_t at = top.first_table == std::string_view::npos ? config.size() : top.first_table;
  if (at > 0 && config[at - 1] != '\n') return Error::Msg("does not end with a newline");
  std::string out(config);
  out.insert(at, ImportLine(snippet));
  return std::optional<std::string>(std::move(out));
}

std::optional<std::string> RemoveContainerdImport(std::string_view config, const std::string& snippet) {
  const std::string line = ImportLine(snippet);
  size_t at = config.find(line);
  // Only a whole line counts.
  while (at != std::string_view::npos && at > 0 && config[at - 1] != '\n') at = config.find(line, at + 1);
  if (at == std::string_view::npos) return std::nullopt;
  std::string out(config);
  out.erase(at, line.size());
  return out;
}

}  // namespace prochook
