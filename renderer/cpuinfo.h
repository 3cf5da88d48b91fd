// /proc/cpuinfo for a container: the host file's blocks for the CPUs in its
// view, renumbered like the other CPU files (container CPU i = visible[i]),
// with the per-package topology counts (siblings, cpu cores) recomputed
// over the visible CPUs. Everything else is kept byte for byte.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "renderer/cpu_view.h"

namespace prochook {

// A run of non-blank lines. Most are one CPU's ("processor\t: N" ...);
// some arches add global ones (ppc64's trailing "timebase ... MMU", arm's
// "Hardware/Revision/Serial").
struct CpuinfoBlock {
  std::optional<int> processor;    // the host CPU; nullopt for a global block
  std::vector<std::string> lines;  // exactly as in the host file, without '\n'
};

struct Cpuinfo {
  std::vector<CpuinfoBlock> blocks;  // in host order
  bool ends_with_blank = false;      // x86 and arm64 end with "\n\n", ppc64 with "\n"
};

// Pure; never fails: text it does not understand is kept as global blocks.
Cpuinfo ParseCpuinfo(std::string_view host);

// Pure: global blocks before the first CPU, then the visible CPUs' blocks
// in view order, then the other global blocks; blocks separated by one
// blank line. A visible CPU missing from the host file (offlined since the
// view was computed) is skipped without shifting the others' numbers.
std::string RenderCpuinfo(const Cpuinfo& host, const CpuView& view);

}  // namespace prochook
