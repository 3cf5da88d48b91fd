// libFuzzer targets, one per parser: built once per target with
// -DFUZZ_<NAME> by tests/fuzz/run.sh. Each feeds the bytes to the parser
// and, where a renderer consumes its output, renders it too, so a parse
// that yields nonsense cannot crash or hang what comes after.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "agent/answer.h"
#include "agent/handoff.h"
#include "common/mountinfo.h"
#include "common/proc.h"
#include "hook/cgroups.h"
#include "nri/frame.h"
#include "oci/config.h"
#include "oci/config_edit.h"
#include "oci/engine_config.h"
#include "oci/options.h"
#include "oci/seccomp_edit.h"
#include "oci/state.h"
#include "renderer/cpu_usage.h"
#include "renderer/cpu_view.h"
#include "renderer/cpuinfo.h"
#include "renderer/diskstats.h"
#include "renderer/meminfo.h"
#include "renderer/memory.h"
#include "renderer/pressure.h"
#include "renderer/stat.h"
#include "renderer/swaps.h"
#include "renderer/tasks.h"
#include "renderer/vmstat.h"
#include "state/record.h"

using namespace prochook;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
#if defined(FUZZ_STATE)
  (void)ParseState(in);
#elif defined(FUZZ_CONFIG)
  if (auto c = ParseConfig(in)) (void)ParseOptions(c->annotations);
  (void)AddProchookHooks(in, "/usr/local/bin/prochook");
  if (auto trapped = AddSysinfoNotify(in, "/run/prochook/c.0123456789abcdef/sysinfo", "/run/prochook");
      trapped && trapped->edit == SysinfoEdit::kAdded) {
    (void)RemoveSysinfoNotify(trapped->text, "/run/prochook");
  }
  (void)RemoveSysinfoNotify(in, "/run/prochook");
#elif defined(FUZZ_SYSINFO)
  // meminfo, a NUL, loadavg: what the agent answers from; and the
  // runtime's handoff message.
  const size_t nul = in.find('\0');
  const std::string_view meminfo = in.substr(0, nul);
  const std::string_view loadavg = nul == std::string_view::npos ? std::string_view() : in.substr(nul + 1);
  if (auto f = ParseSysinfoFigures(meminfo, loadavg)) {
    (void)EncodeSysinfo(*f, 1, false);
    (void)EncodeSysinfo(*f, 1, true);
  }
  (void)ParseHandoffMessage(in);
#elif defined(FUZZ_DAEMON_JSON)
  if (auto added = AddDockerRuntime(in, "/p", std::nullopt)) (void)RemoveDockerRuntime(*added);
  (void)RemoveDockerRuntime(in);
  (void)IsProchookHooksD(in);
#elif defined(FUZZ_RECORD)
  if (auto r = ParseRecord(in)) (void)ParseRecord(SerializeRecord(*r));
#elif defined(FUZZ_DURATION)
  (void)ParseDuration(in);
#elif defined(FUZZ_PROC_CGROUP)
  (void)ParseProcCgroup(in);
#elif defined(FUZZ_MOUNTINFO)
  (void)ParseMountinfo(in);
#elif defined(FUZZ_CPU_LIST)
  if (auto cpus = ParseCpuList(in)) (void)FormatCpuList(*cpus);
#elif defined(FUZZ_CPU_MAX)
  (void)ParseCpuMax(in);
#elif defined(FUZZ_MEMORY_STAT)
  (void)ParseFlatKeyed(in);
  (void)ParseLimit(in);
#elif defined(FUZZ_CPU_USAGE)
  (void)ParseCpuacctUsageAll(in);
  (void)ParseCpuacctPerCpu(in);
  (void)ParseCpuStat(in);
#elif defined(FUZZ_IO_STAT)
  (void)ParseIoStat(in);
  (void)ParseRwStat(in);
  (void)RenderDiskstats(in, ParseIoStat(in));
#elif defined(FUZZ_PRESSURE)
  (void)ValidatePressure(in, "cpu");
  (void)ValidatePressure(in, "memory");
#elif defined(FUZZ_MEMINFO)
  MemorySnapshot m;
  m.limit = 256ull << 20;
  m.usage = 300ull << 20;
  (void)RenderMeminfo(ParseMeminfo(in), m);
  (void)RenderSwaps(in, m, true);
#elif defined(FUZZ_HOST_STAT)
  StatInput s;
  s.host = ParseHostStat(in);
  s.view = CpuView{{0, 2}, {0, 1, 2}};
  s.elapsed_ticks = 1000;
  StatState state;
  (void)RenderStat(s, state);
  (void)RenderStat(s, state);
#elif defined(FUZZ_VMSTAT)
  // The input as the host's file, as memory.stat and as the last file.
  MemorySnapshot m;
  m.limit = 256ull << 20;
  m.usage = 300ull << 20;
  m.stat = ParseFlatKeyed(in);
  VmstatInput v;
  v.memory = &m;
  v.mem_total_kb = 262144;
  v.io_read_bytes = 1 << 20;
  v.io_write_bytes = UINT64_MAX;
  VmstatState state;
  state.Seed(in);
  (void)RenderVmstat(in, v, state);
  m.stat.clear();
  (void)RenderVmstat(in, v, state);
#elif defined(FUZZ_CPUINFO)
  (void)RenderCpuinfo(ParseCpuinfo(in), CpuView{{1, 3}, {0, 1, 3}});
#elif defined(FUZZ_PID_STAT)
  (void)ParseStartTime(in);
  (void)ParseTaskState(in);
  (void)ParseNsPid(in);
#elif defined(FUZZ_NRI_FRAME)
  // The trunk as the plugin reads it, split where the input's first byte
  // says; each connection's stream reassembled into ttrpc frames, and every
  // frame rendered again must parse back to itself.
  const size_t split = in.empty() ? 0 : uint8_t(in[0]) % (in.size() + 1);
  nri::MuxReader trunk;
  nri::TtrpcReader conns[2];
  for (std::string_view part : {in.substr(0, split), in.substr(split)}) {
    auto frames = trunk.Feed(part);
    if (!frames) break;
    for (const auto& mux : *frames) {
      auto again = nri::ParseMuxFrame(nri::RenderMuxFrames(mux.conn, mux.payload));
      if (!again || !*again || (*again)->frame.payload.substr(0, nri::kMuxChunkBytes) !=
                                   mux.payload.substr(0, nri::kMuxChunkBytes)) {
        __builtin_trap();
      }
      auto messages = conns[mux.conn % 2].Feed(mux.payload);
      if (!messages) continue;
      for (const auto& m : *messages) {
        auto rendered = nri::RenderTtrpcFrame(m);
        auto back = rendered ? nri::ParseTtrpcFrame(*rendered) : rendered.error();
        if (!back || !*back || (*back)->frame.data != m.data || (*back)->frame.stream != m.stream) {
          __builtin_trap();
        }
      }
    }
  }
#else
#error "define one FUZZ_<NAME>"
#endif
  return 0;
}
