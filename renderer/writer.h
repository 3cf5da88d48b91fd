// Publishes a rendered file to readers that hold it open through a bind
// mount. A bind mount pins the inode, so every update happens in place on
// the same inode (rename would never be seen inside the container).
//
// This is the one place that decides how bytes reach readers. Today it
// writes in place and then trims a shorter file (write-then-truncate: a
// concurrent reader never sees an empty file, which procps treats as an
// error); the tear-free store replaces this class alone.
#pragma once

#include <string>
#include <string_view>

#include "common/fd.h"
#include "common/result.h"

namespace prochook {

class FileStore {
 public:
  // Creates path (mode 0444) or opens it if it exists.
  static Result<FileStore> Open(const std::string& path);

  // Writes content if it differs from what was last written.
  Result<> Update(std::string_view content);

 private:
  explicit FileStore(UniqueFd fd) : fd_(std::move(fd)) {}
  UniqueFd fd_;
  std::string current_;
};

}  // namespace prochook
