#include "renderer/writer.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/io.h"

namespace prochook {

Result<FileStore> FileStore::Open(const std::string& path) {
  TRY_ASSIGN(UniqueFd fd, OpenFile(path, O_RDWR | O_CREAT | O_NOFOLLOW, 0644), "file store");
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) return Error::Sys("fstat " + path);
  return FileStore(std::move(fd), static_cast<size_t>(st.st_size));
}

Result<> FileStore::Update(std::string_view content) {
  if (!current_.empty() && content == current_) return Ok{};
  if (content.size() >= size_ || content.empty() || content.back() != '\n') {
    TRY(PwriteAll(fd_.get(), content, 0), "update");
    if (content.size() < size_ && ::ftruncate(fd_.get(), static_cast<off_t>(content.size())) != 0) {
      return Error::Sys("ftruncate");
    }
  } else {
    std::string padded(content.substr(0, content.size() - 1));
    padded.append(size_ - content.size(), ' ');
    padded.push_back('\n');
    TRY(PwriteAll(fd_.get(), padded, 0), "update");
    if (::ftruncate(fd_.get(), static_cast<off_t>(content.size())) != 0) return Error::Sys("ftruncate");
    TRY(PwriteAll(fd_.get(), "\n", static_cast<off_t>(content.size() - 1)), "update");
  }
  size_ = content.size();
  current_.assign(content);
  return Ok{};
}

}  // namespace prochook
