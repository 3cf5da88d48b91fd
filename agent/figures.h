// Reading the figures sysinfo(2) answers from a container's state
// directory: the renderer's meminfo and loadavg, only while a renderer
// keeps them fresh.
#pragma once

#include <optional>
#include <string>

#include "agent/answer.h"

namespace prochook {

// nullopt (the caller gets the real call) when the container is not served
// (no record, no live renderer) or a file is missing or does not parse.
// A renderer in idle mode refreshes as soon as a file is opened: then the
// answer waits briefly for that refresh, as a reader of the files gets it.
std::optional<SysinfoFigures> ReadFigures(const std::string& state_dir);

}  // namespace prochook
