// What each engine needs to run prochook, as text: the hooks.d file
// (podman, CRI-O), the runtime entry in Docker's daemon.json, containerd's
// runtime snippet. Pure; `prochook install` writes them.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"

namespace prochook {

inline constexpr char kDockerRuntimeName[] = "prochook";

// hooks.d schema 1.0.0: createRuntime and poststop, every container.
std::string RenderHooksD(const std::string& binary);

// daemon.json with runtimes.prochook = {path, runtimeArgs: ["runtime",
// (--prochook-runtime=real_runtime)]}, every other key kept in order. An
// empty or missing document is "{}". Errors say what is malformed and
// where (a syntax error's line and column), without naming the file.
Result<std::string> AddDockerRuntime(std::string_view daemon_json, const std::string& binary,
                                     const std::optional<std::string>& real_runtime);
// daemon.json without runtimes.prochook (and without "runtimes" if that
// leaves it empty). nullopt: there was nothing to remove.
Result<std::optional<std::string>> RemoveDockerRuntime(std::string_view daemon_json);

// A containerd config snippet registering the CRI runtime "prochook": the
// runc shim with BinaryName = wrapper (prochook called as prochook-runtime).
std::string RenderContainerdSnippet(const std::string& wrapper);

// Whether a containerd snippet or podman drop-in is one prochook writes
// (its first line).
bool IsProchookSnippet(std::string_view text);

// Pure. A containers.conf drop-in (podman >= 4 reads
// /etc/containers/containers.conf.d/*.conf) naming the wrapper as the
// runtime "prochook": `podman --runtime prochook run ...`.
std::string RenderPodmanRuntime(const std::string& wrapper);

// Whether a hooks.d document is prochook's (its hook runs "prochook hook").
bool IsProchookHooksD(std::string_view text);

}  // namespace prochook
