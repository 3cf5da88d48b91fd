// /proc/swaps for a container: the kernel's header and at most one
// virtual entry sized by the container's swap limit (mm/swapfile.c
// swap_show).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "renderer/memory.h"

namespace prochook {

// Pure. The header alone unless show_swap, the host has a swap area
// (host_swaps has an entry) and the container's swap is accounted with a
// limit that is absent or non-zero. Then one entry "none", type partition,
// Size = min(swap limit, host swap total) KiB, Used = swap usage KiB
// (at most Size), priority -2.
std::string RenderSwaps(std::string_view host_swaps, const std::optional<MemorySnapshot>& memory,
                        bool show_swap);

}  // namespace prochook
