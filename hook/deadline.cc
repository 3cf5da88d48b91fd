#include "hook/deadline.h"

#include <sys/stat.h>


namespace prochook {
namespace {

struct FileId {
  dev_t dev;
  ino_t ino;
};

std::optional<FileId> IdOf(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return std::nullopt;
  return FileId{st.st_dev, st.st_ino};
}

bool Names(const std::string& path, const FileId& self) {
  auto id = IdOf(path);
  return id && id->dev == self.dev && id->ino == self.ino;
}

// Absolute paths in a wrapper's argument: words starting with '/', cut at
// the quotes and separators of a shell command line.
std::vector<std::string> AbsolutePaths(const std::string& arg) {
  std::vector<std::string> out;
  std::string word;
  auto flush = [&] {
    if (!word.empty() && word.front() == '/') out.push_back(word);
    word.clear();
  };
  for (char c : arg) {
    if (c == ' ' || c == '\t' || c == '\n' || c == '"' || c == '\'' || c == ';' || c == '&' ||
        c == '|' || c == '(' || c == ')' || c == '<' || c == '>' || c == '=') {
      flush();
    } else {
      word.push_back(c);
    }
  }
  flush();
  return out;
}

}  // namespace

std::optional<std::chrono::seconds> OwnHookTimeout(const std::vector<OciHook>& hooks) {
  auto self = IdOf("/proc/self/exe");
  if (!self) return std::nullopt;
  std::optional<std::chrono::seconds> timeout;
  for (const OciHook& h : hooks) {
    if (!h.timeout || (timeout && *timeout <= *h.timeout)) continue;
    bool ours = Names(h.path, *self);
    for (size_t i = 1; i < h.args.size() && !ours; ++i) {
      for (const std::string& p : AbsolutePaths(h.args[i])) {
        if (Names(p, *self)) {
          ours = true;
          break;
        }
      }
    }
    if (ours) timeout = h.timeout;
  }
  return timeout;
}

Deadline::Deadline(Clock::time_point start, std::optional<std::chrono::seconds> timeout) {
  if (!timeout) return;
  timeout_ = *timeout;
  at_ = start + std::chrono::duration_cast<Clock::duration>(*timeout) / 2;
}

Result<> Deadline::Check(const char* next_phase) const {
  if (!Passed()) return Ok{};
  return Error::Msg("gave up before " + std::string(next_phase) + ": half of the runtime's " +
                    std::to_string(timeout_.count()) + " s hook timeout has passed");
}

}  // namespace prochook
