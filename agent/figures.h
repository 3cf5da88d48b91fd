// Reading the figures sysinfo(2) answers from a container's state
// directory: the renderer's meminfo and loadavg, only while a renderer
// keeps them fresh.
#pragma once

#include <optional>
#include <string>

#include "agent/answer.h"
#include "common/fd.h"
#include "common/reader.h"
#include "state/record.h"

namespace prochook {

// Per call: nullopt (the caller gets the real call) when the container is
// not served (no record, no live renderer) or a file is missing or does not
// parse. A renderer in idle mode refreshes as soon as a file is opened:
// then the answer waits briefly for that refresh, as a reader of the files
// gets it. What does not change between calls is kept: the record (written
// once by the hook), the renderer by a pidfd, and the two files open (the
// renderer rewrites them in place).
class FiguresReader {
 public:
  explicit FiguresReader(std::string state_dir) : dir_(std::move(state_dir)) {}
  std::optional<SysinfoFigures> Read();

 private:
  bool RendererAlive();

  const std::string dir_;
  std::optional<ContainerRecord> record_;
  UniqueFd renderer_;
  KeptOpenReader files_;
};

}  // namespace prochook
