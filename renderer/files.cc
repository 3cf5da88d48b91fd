#include "renderer/files.h"

#include "common/io.h"
#include "common/log.h"
#include "renderer/meminfo.h"
#include "renderer/memory.h"

namespace prochook {
namespace {

Result<std::string> RenderMeminfoFile(const ContainerRecord& record, const HostPaths& host) {
  TRY_ASSIGN(std::string text, ReadFile(host.proc + "/meminfo"), "host meminfo");
  std::optional<MemorySnapshot> memory;
  auto cg = record.cgroups.find("memory");
  if (cg != record.cgroups.end() && cg->second.present()) {
    auto snap = ReadMemoryCgroup(cg->second);
    if (snap) memory = std::move(*snap);
    else LOG_WARN("meminfo shows host values: %s", snap.error().message().c_str());
  }
  return RenderMeminfo(ParseMeminfo(text), memory);
}

}  // namespace

const std::vector<FileSpec>& FileTable() {
  static const std::vector<FileSpec> table = {
      {"meminfo", "proc/meminfo"},
  };
  return table;
}

Result<std::string> RenderFile(const std::string& name, const ContainerRecord& record,
                               const HostPaths& host) {
  if (name == "meminfo") return RenderMeminfoFile(record, host);
  return Error::Msg("no renderer for file \"" + name + "\"");
}

}  // namespace prochook
