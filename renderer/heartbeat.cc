#include "renderer/heartbeat.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>

#include "common/log.h"
#include "state/record.h"

namespace prochook {

Heartbeat::Heartbeat(std::string state_dir)
    : dir_(std::move(state_dir)), dir_fd_(::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)) {}

void Heartbeat::Beat(bool wrote_any, const std::vector<std::string>& problems) {
  struct stat before;
  const bool known = dir_fd_.valid() && ::fstat(dir_fd_.get(), &before) == 0;
  const bool publish = published_ != problems;
  if (publish) Publish(problems);
  if (!dir_fd_.valid()) return;
  if (wrote_any) {
    ::futimens(dir_fd_.get(), nullptr);  // one system call per refresh, no extra file
  } else if (publish && known) {
    // Creating or removing the problems file moved the directory's mtime:
    // put it back, it says when files were last written.
    const struct timespec times[2] = {{0, UTIME_OMIT}, before.st_mtim};
    ::futimens(dir_fd_.get(), times);
  }
}

void Heartbeat::Alive() {
  if (dir_fd_.valid()) ::futimens(dir_fd_.get(), nullptr);
}

void Heartbeat::Publish(const std::vector<std::string>& problems) {
  const std::string path = dir_ + "/" + kProblemsFile;
  published_ = problems;
  if (problems.empty()) {
    file_.reset();
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
      LOG_WARN("%s", Error::Sys("remove " + path).message().c_str());
      published_.reset();
    }
    return;
  }
  std::string text;
  for (std::string line : problems) {
    std::replace(line.begin(), line.end(), '\n', ' ');  // one line each, whatever the error says
    text += line + "\n";
  }
  if (!file_) {
    auto opened = FileStore::Open(path);
    if (opened) file_.emplace(std::move(*opened));
  }
  Result<> written = file_ ? file_->Update(text) : Result<>(Error::Msg("cannot open " + path));
  if (!written) {
    LOG_WARN("%s: %s", kProblemsFile, written.error().message().c_str());
    file_.reset();
    published_.reset();
  }
}

}  // namespace prochook
