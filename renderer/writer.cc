#include "renderer/writer.h"

#include <fcntl.h>
#include <unistd.h>

#include "common/io.h"

namespace prochook {

Result<FileStore> FileStore::Open(const std::string& path) {
  TRY_ASSIGN(UniqueFd fd, OpenFile(path, O_RDWR | O_CREAT | O_NOFOLLOW, 0444), "file store");
  return FileStore(std::move(fd));
}

Result<> FileStore::Update(std::string_view content) {
  if (content == current_) return Ok{};
  TRY(PwriteAll(fd_.get(), content, 0), "update");
  if (content.size() < current_.size() || current_.empty()) {
    if (::ftruncate(fd_.get(), static_cast<off_t>(content.size())) != 0) {
      return Error::Sys("ftruncate");
    }
  }
  current_.assign(content);
  return Ok{};
}

}  // namespace prochook
