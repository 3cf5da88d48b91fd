// Publishes a rendered file to readers that hold it open through a bind
// mount. A bind mount pins the inode, so every update happens in place on
// the same inode (rename would never be seen inside the container).
//
// Every step is one write(2)-sized change, so on a store that serializes
// reads with writes (XFS: the inode lock is taken around buffered reads
// and writes, see store.h) a reader sees one whole version, never a mix:
//  - same length or longer: one pwrite at offset 0;
//  - shorter ("A\n" replacing a longer file): pwrite of "A" + spaces +
//    "\n" at the old length, truncate to the new length (leaving "A "),
//    then write the final "\n". A reader in between sees the new content
//    with trailing blanks on its last line, never old bytes and never an
//    empty file (which procps treats as an error).
#pragma once

#include <string>
#include <string_view>

#include "common/fd.h"
#include "common/result.h"

namespace prochook {

class FileStore {
 public:
  // Creates path (mode 0644: owner-writable, so a renderer without
  // CAP_DAC_OVERRIDE can update it; the mounts are read-only) or opens it.
  static Result<FileStore> Open(const std::string& path);

  // Writes content if it differs from what was last written.
  Result<> Update(std::string_view content);

  // The open file (the read gate marks it through this descriptor).
  int fd() const { return fd_.get(); }

 private:
  FileStore(UniqueFd fd, size_t size) : fd_(std::move(fd)), size_(size) {}
  UniqueFd fd_;
  size_t size_;          // the file's length now
  std::string current_;  // what was last written ("" until the first write)
};

}  // namespace prochook
