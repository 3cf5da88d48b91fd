// What `prochook ps` (and repair) learn of a renderer's refreshes without
// asking it:
//  - the state directory's mtime: when a refresh last wrote its files. A
//    refresh where every file failed leaves it, so the renderer shows as
//    late, then stale, instead of serving;
//  - <state dir>/problems (kProblemsFile): one line per file failing now
//    and per input the files could only approximate, rewritten in place
//    when that changes and removed when all is well.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/fd.h"
#include "renderer/writer.h"

namespace prochook {

class Heartbeat {
 public:
  explicit Heartbeat(std::string state_dir);

  // After a refresh: whether it wrote any file, and the problems now. Needs
  // no system call the sandbox denies (no rename: the file is updated in
  // place like the served ones).
  void Beat(bool wrote_any, const std::vector<std::string>& problems);
  // The renderer lives but had nothing to write (an unread container with
  // a read gate): the directory's mtime moves all the same, so `prochook
  // ps` and repair see it alive.
  void Alive();

 private:
  void Publish(const std::vector<std::string>& problems);

  std::string dir_;
  UniqueFd dir_fd_;
  std::optional<FileStore> file_;
  // What the file says; nullopt until the first Beat (a restarted
  // renderer replaces its predecessor's file) and after a failed write.
  std::optional<std::vector<std::string>> published_;
};

}  // namespace prochook
