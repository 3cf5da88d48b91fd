#include "tests/testing.h"

#include <signal.h>
#include <sys/inotify.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <stdexcept>

namespace prochook::testing {

TempDir::TempDir() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "prochook-test-XXXXXX").string();
  if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  path_ = tmpl;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

void TempDir::Write(const std::map<std::string, std::string>& files) const {
  for (const auto& [rel, content] : files) {
    std::filesystem::path p = std::filesystem::path(path_) / rel;
    std::filesystem::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary | std::ios::trunc) << content;
  }
}

OpenWatch::OpenWatch() : fd_(::inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) {
  if (fd_ < 0) throw std::runtime_error("inotify_init1 failed");
}

OpenWatch::~OpenWatch() { ::close(fd_); }

void OpenWatch::Add(const std::string& path) {
  const int wd = ::inotify_add_watch(fd_, path.c_str(), IN_OPEN);
  if (wd < 0) throw std::runtime_error("inotify_add_watch " + path + " failed");
  paths_[wd] = path;
}

std::set<std::string> OpenWatch::Opened() {
  std::set<std::string> out;
  alignas(struct inotify_event) char buf[64 << 10];
  for (;;) {
    const ssize_t n = ::read(fd_, buf, sizeof buf);
    if (n <= 0) {
      if (n < 0 && errno == EINTR) continue;
      break;  // EAGAIN: drained
    }
    for (ssize_t off = 0; off < n;) {
      const auto* e = reinterpret_cast<const struct inotify_event*>(buf + off);
      if (e->mask & IN_Q_OVERFLOW) throw std::runtime_error("inotify queue overflowed");
      if (auto it = paths_.find(e->wd); it != paths_.end()) out.insert(it->second);
      off += static_cast<ssize_t>(sizeof(struct inotify_event) + e->len);
    }
  }
  return out;
}

Sleeper::Sleeper() : pid(::fork()) {
  if (pid == 0) {
    ::execl("/bin/sleep", "sleep", "100000", nullptr);
    _exit(127);
  }
}

void Sleeper::Kill() {
  if (pid <= 0) return;
  ::kill(pid, SIGKILL);
  ::waitpid(pid, nullptr, 0);
  pid = -1;
}

bool Sleeper::Exited() const { return ::waitpid(pid, nullptr, WNOHANG) == pid; }

bool SkipOrFailInCi(const std::string& why) {
  const char* ci = std::getenv("CI");
  if (ci != nullptr && std::string(ci) == "true") FAIL("prerequisite missing in CI: " << why);
  const doctest::ContextOptions* options = doctest::getContextOptions();
  const std::string name = options != nullptr && options->currentTest != nullptr
                               ? options->currentTest->m_name
                               : "?";
  // One line, at the start of a line, flushed: run.sh reads it from test.log.
  std::cout << "prochook-test: SKIPPED " << name << ": " << why << std::endl;
  return true;
}

}  // namespace prochook::testing
