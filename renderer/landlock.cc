#include "renderer/landlock.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/landlock.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdint>

#include "common/fd.h"

namespace prochook {
namespace {

// Debian 12's <linux/landlock.h> (kernel 6.1) stops at ABI 2: the later
// rights and the later ruleset fields are spelled out here, from the
// kernel's uapi header.
constexpr uint64_t kFsExecute = 1ULL << 0;
constexpr uint64_t kFsWriteFile = 1ULL << 1;
constexpr uint64_t kFsReadFile = 1ULL << 2;
constexpr uint64_t kFsReadDir = 1ULL << 3;
constexpr uint64_t kFsRemoveDir = 1ULL << 4;
constexpr uint64_t kFsRemoveFile = 1ULL << 5;
constexpr uint64_t kFsMakeDir = 1ULL << 7;
constexpr uint64_t kFsMakeReg = 1ULL << 8;
constexpr uint64_t kFsAbi1 = (1ULL << 13) - 1;  // EXECUTE .. MAKE_SYM
constexpr uint64_t kFsRefer = 1ULL << 13;       // ABI 2
constexpr uint64_t kFsTruncate = 1ULL << 14;    // ABI 3
constexpr uint64_t kFsIoctlDev = 1ULL << 15;    // ABI 5
constexpr uint64_t kNetTcp = (1ULL << 0) | (1ULL << 1);  // ABI 4: bind, connect
constexpr uint64_t kScopeAbstractUnixSocket = 1ULL << 0;  // ABI 6
constexpr uint64_t kScopeSignal = 1ULL << 1;              // ABI 6

// struct landlock_ruleset_attr as of ABI 6. The kernel accepts a larger
// struct than it knows as long as the fields it does not know are zero,
// which HandledBy keeps them for older ABIs.
struct RulesetAttr {
  uint64_t handled_access_fs;
  uint64_t handled_access_net;
  uint64_t scoped;
};

RulesetAttr HandledBy(int abi) {
  RulesetAttr attr = {kFsAbi1, 0, 0};
  if (abi >= 2) attr.handled_access_fs |= kFsRefer;
  if (abi >= 3) attr.handled_access_fs |= kFsTruncate;
  if (abi >= 4) attr.handled_access_net = kNetTcp;
  if (abi >= 5) attr.handled_access_fs |= kFsIoctlDev;
  if (abi >= 6) attr.scoped = kScopeAbstractUnixSocket | kScopeSignal;
  return attr;
}

constexpr uint64_t kRead = kFsReadFile | kFsReadDir;
constexpr uint64_t kOwn =
    kRead | kFsWriteFile | kFsTruncate | kFsMakeReg | kFsMakeDir | kFsRemoveFile | kFsRemoveDir;
static_assert((kOwn & kFsExecute) == 0, "the renderer never executes anything");

Result<> AddRule(int ruleset, const std::string& path, uint64_t access, uint64_t handled) {
  UniqueFd fd(::open(path.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!fd.valid()) {
    if (errno == ENOENT) return Ok{};
    return Error::Sys("open " + path);
  }
  struct landlock_path_beneath_attr rule = {};
  rule.allowed_access = access & handled;
  rule.parent_fd = fd.get();
  if (::syscall(SYS_landlock_add_rule, ruleset, LANDLOCK_RULE_PATH_BENEATH, &rule, 0) != 0) {
    return Error::Sys("rule for " + path);
  }
  return Ok{};
}

}  // namespace

LandlockSupport ProbeLandlock() {
  const long abi = ::syscall(SYS_landlock_create_ruleset, nullptr, 0, LANDLOCK_CREATE_RULESET_VERSION);
  if (abi >= 1) return {static_cast<int>(abi), ""};
  switch (errno) {
    case ENOSYS:
      return {0, "Landlock is not built into this kernel"};
    case EOPNOTSUPP:
      return {0, "Landlock is disabled on this host (not in the kernel's lsm= list)"};
    default:
      return {0, Error::Sys("landlock_create_ruleset").message()};
  }
}

Result<> ApplyLandlock(const LandlockPolicy& policy, int abi) {
  const RulesetAttr attr = HandledBy(abi);
  UniqueFd ruleset(static_cast<int>(::syscall(SYS_landlock_create_ruleset, &attr, sizeof attr, 0)));
  if (!ruleset.valid()) return Error::Sys("landlock_create_ruleset (ABI " + std::to_string(abi) + ")");
  for (const auto& [paths, access] : {std::pair{&policy.read, kRead}, std::pair{&policy.own, kOwn},
                                      std::pair{&policy.remove_dir, kFsRemoveDir}}) {
    for (const std::string& path : *paths) TRY(AddRule(ruleset.get(), path, access, attr.handled_access_fs), "landlock");
  }
  if (::syscall(SYS_landlock_restrict_self, ruleset.get(), 0) != 0) {
    return Error::Sys("landlock_restrict_self");
  }
  return Ok{};
}

}  // namespace prochook
