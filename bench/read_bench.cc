// Read latency of /proc-style files, the way their readers read them:
//  - open_read_close: open, read to EOF, close (cat, psutil, Node, free);
//  - lseek_read: one fd kept open, lseek to 0 and read to EOF (top,
//    vmstat, `free -s`).
// Run inside a container by bench/driver.py, over the same file from
// several sources (the kernel's procfs, LXCFS, prochook, a tmpfs copy):
//
//   read_bench [--benchmark_* flags] SOURCE/FILE=PATH...
//
// e.g. `prochook/meminfo=/proc/meminfo lxcfs/meminfo=/lxcfs/meminfo`.
// Every benchmark reads into a 64 KiB buffer; a read that fails aborts the
// run (a figure over an error would be a lie).
#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace {

char g_buf[64 << 10];

// Reads fd to EOF; returns the bytes read or exits on an error.
size_t ReadToEof(int fd, const std::string& path) {
  size_t total = 0;
  for (;;) {
    ssize_t n = ::read(fd, g_buf, sizeof g_buf);
    if (n > 0) {
      total += static_cast<size_t>(n);
      continue;
    }
    if (n == 0) return total;
    if (errno == EINTR) continue;
    std::fprintf(stderr, "read_bench: read %s: %s\n", path.c_str(), std::strerror(errno));
    std::exit(1);
  }
}

void OpenReadClose(benchmark::State& state, const std::string& path) {
  size_t bytes = 0;
  for (auto _ : state) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      std::fprintf(stderr, "read_bench: open %s: %s\n", path.c_str(), std::strerror(errno));
      std::exit(1);
    }
    bytes = ReadToEof(fd, path);
    ::close(fd);
  }
  state.counters["bytes"] = static_cast<double>(bytes);
}

void LseekRead(benchmark::State& state, const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    std::fprintf(stderr, "read_bench: open %s: %s\n", path.c_str(), std::strerror(errno));
    std::exit(1);
  }
  size_t bytes = 0;
  for (auto _ : state) {
    if (::lseek(fd, 0, SEEK_SET) != 0) {
      std::fprintf(stderr, "read_bench: lseek %s: %s\n", path.c_str(), std::strerror(errno));
      std::exit(1);
    }
    bytes = ReadToEof(fd, path);
  }
  ::close(fd);
  state.counters["bytes"] = static_cast<double>(bytes);
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (argc < 2) {
    std::fprintf(stderr, "usage: read_bench [--benchmark_* flags] SOURCE/FILE=PATH...\n");
    return 2;
  }
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const size_t eq = arg.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == arg.size()) {
      std::fprintf(stderr, "read_bench: \"%s\": expected SOURCE/FILE=PATH\n", arg.c_str());
      return 2;
    }
    const std::string name = arg.substr(0, eq), path = arg.substr(eq + 1);
    benchmark::RegisterBenchmark(("open_read_close/" + name).c_str(), OpenReadClose, path);
    benchmark::RegisterBenchmark(("lseek_read/" + name).c_str(), LseekRead, path);
  }
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
