// ReadConfigFile and ReplaceConfigFile in a temp dir: what `prochook
// install` refuses to read, and how it replaces an operator's file.
#include <doctest/doctest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

#include "install/config_file.h"
#include "tests/testing.h"

namespace fs = std::filesystem;
using namespace prochook;
using prochook::testing::TempDir;

namespace {

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Every name in dir, so a leftover temporary file shows.
std::vector<std::string> Names(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) out.push_back(e.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

TEST_CASE("ReadConfigFile: a missing file is absent; a directory or a symbolic link is an error naming it") {
  TempDir t;
  const std::string dir = t.path();
  auto missing = ReadConfigFile(dir + "/daemon.json");
  REQUIRE(missing.ok());
  CHECK_FALSE(missing->exists);

  t.Write({{"plain.json", "{\"a\": 1}\n"}});
  auto plain = ReadConfigFile(dir + "/plain.json");
  REQUIRE(plain.ok());
  CHECK(plain->exists);
  CHECK(plain->text == "{\"a\": 1}\n");

  fs::create_directory(dir + "/a-dir.json");
  auto d = ReadConfigFile(dir + "/a-dir.json");
  REQUIRE_FALSE(d.ok());
  CHECK(d.error().message() == dir + "/a-dir.json is a directory, not a file");

  fs::create_symlink("/nonexistent/daemon.json", dir + "/dangling.json");
  auto dangling = ReadConfigFile(dir + "/dangling.json");
  REQUIRE_FALSE(dangling.ok());
  CHECK(dangling.error().message().find(dir + "/dangling.json is a symbolic link to /nonexistent/daemon.json "
                                        "(which does not exist)") == 0);

  // Even to a readable file: replacing the link would cut it.
  fs::create_symlink(dir + "/plain.json", dir + "/link.json");
  auto link = ReadConfigFile(dir + "/link.json");
  REQUIRE_FALSE(link.ok());
  CHECK(link.error().message().find("is a symbolic link to " + dir + "/plain.json;") != std::string::npos);
}

TEST_CASE("ReplaceConfigFile keeps mode and owner, backs the original up once, leaves no temporary file") {
  TempDir t;
  const std::string dir = t.path(), path = dir + "/daemon.json", backup = path + ".prochook-backup";
  t.Write({{"daemon.json", "{\"original\": true}\n"}});
  REQUIRE(::chmod(path.c_str(), 0640) == 0);
  const bool root = ::geteuid() == 0;
  if (root) REQUIRE(::chown(path.c_str(), 1234, 5678) == 0);

  REQUIRE(ReplaceConfigFile(path, "{\"first\": true}\n", backup).ok());
  CHECK(Slurp(path) == "{\"first\": true}\n");
  CHECK(Slurp(backup) == "{\"original\": true}\n");
  struct stat st;
  REQUIRE(::stat(path.c_str(), &st) == 0);
  CHECK((st.st_mode & 07777) == 0640);
  if (root) {
    CHECK(st.st_uid == 1234u);
    CHECK(st.st_gid == 5678u);
  }
  REQUIRE(::stat(backup.c_str(), &st) == 0);
  CHECK((st.st_mode & 07777) == 0640);

  // The backup is the file before prochook first touched it: made once.
  REQUIRE(ReplaceConfigFile(path, "{\"second\": true}\n", backup).ok());
  CHECK(Slurp(path) == "{\"second\": true}\n");
  CHECK(Slurp(backup) == "{\"original\": true}\n");
  CHECK(Names(dir) == std::vector<std::string>{"daemon.json", "daemon.json.prochook-backup"});

  // A new file: 0644, no backup of nothing.
  REQUIRE(ReplaceConfigFile(dir + "/new.toml", "x = 1\n", dir + "/new.toml.prochook-backup").ok());
  REQUIRE(::stat((dir + "/new.toml").c_str(), &st) == 0);
  CHECK((st.st_mode & 07777) == 0644);
  CHECK(Names(dir) == std::vector<std::string>{"daemon.json", "daemon.json.prochook-backup", "new.toml"});
}

TEST_CASE("ReplaceConfigFile refuses a directory or a symbolic link in the file's place and changes nothing") {
  TempDir t;
  const std::string dir = t.path();
  fs::create_directory(dir + "/daemon.json");
  auto d = ReplaceConfigFile(dir + "/daemon.json", "{}\n", dir + "/daemon.json.prochook-backup");
  REQUIRE_FALSE(d.ok());
  CHECK(d.error().message() == dir + "/daemon.json is a directory, not a file");
  t.Write({{"target.json", "{\"kept\": 1}\n"}});
  fs::create_symlink(dir + "/target.json", dir + "/link.json");
  CHECK_FALSE(ReplaceConfigFile(dir + "/link.json", "{}\n").ok());
  CHECK(fs::is_symlink(fs::symlink_status(dir + "/link.json")));
  CHECK(Slurp(dir + "/target.json") == "{\"kept\": 1}\n");
  CHECK(Names(dir) == std::vector<std::string>{"daemon.json", "link.json", "target.json"});

  // A directory that does not exist: an error, nothing made.
  auto nowhere = ReplaceConfigFile(dir + "/missing/daemon.json", "{}\n");
  REQUIRE_FALSE(nowhere.ok());
  CHECK(nowhere.error().message().find("temporary file in " + dir + "/missing") != std::string::npos);
}
