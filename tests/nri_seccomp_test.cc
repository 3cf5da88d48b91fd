// The seccomp half of the plugin's adjustment, pure: NRI's LinuxSeccomp
// to config.json's linux.seccomp and back, and the policy with sysinfo
// trapped (or why not).
#include <doctest/doctest.h>

#include <string>

#include <nlohmann/json.hpp>

#include "nri/seccomp.h"
#include "tests/nri_runtime.h"

using namespace prochook::nri;
using namespace prochook::nri::testing;
using Json = nlohmann::json;

namespace {

constexpr char kRunDir[] = "/run/prochook";
constexpr char kListener[] = "/run/prochook/c1.0123456789abcdef/sysinfo";

// Every field set, as a runtime sends a Docker-like profile.
api::LinuxSeccomp FullPolicy() {
  api::LinuxSeccomp p;
  p.set_default_action("SCMP_ACT_ERRNO");
  p.mutable_default_errno()->set_value(1);
  p.add_architectures("SCMP_ARCH_X86_64");
  p.add_architectures("SCMP_ARCH_X86");
  p.add_flags("SECCOMP_FILTER_FLAG_SPEC_ALLOW");
  p.set_listener_metadata("meta");
  auto* allow = p.add_syscalls();
  allow->add_names("read");
  allow->add_names("sysinfo");
  allow->add_names("write");
  allow->set_action("SCMP_ACT_ALLOW");
  auto* personality = p.add_syscalls();
  personality->add_names("personality");
  personality->set_action("SCMP_ACT_ALLOW");
  auto* arg = personality->add_args();
  arg->set_index(0);
  arg->set_value(0xffffffff);
  arg->set_value_two(0);
  arg->set_op("SCMP_CMP_EQ");
  auto* masked = personality->add_args();
  masked->set_index(1);
  masked->set_value(8);
  masked->set_value_two(8);
  masked->set_op("SCMP_CMP_MASKED_EQ");
  auto* clone3 = p.add_syscalls();
  clone3->add_names("clone3");
  clone3->set_action("SCMP_ACT_ERRNO");
  clone3->mutable_errno_ret()->set_value(38);
  return p;
}

api::Container WithPolicy(const api::LinuxSeccomp& policy,
                          const std::map<std::string, std::string>& annotations = {}) {
  api::Container c = MakeContainer("c1", annotations);
  *c.mutable_linux()->mutable_seccomp_policy() = policy;
  return c;
}

// The rules naming sysinfo, as "action" strings.
std::vector<std::string> SysinfoActions(const api::LinuxSeccomp& p) {
  std::vector<std::string> out;
  for (const auto& rule : p.syscalls()) {
    for (const auto& name : rule.names()) {
      if (name == "sysinfo") out.push_back(rule.action());
    }
  }
  return out;
}

constexpr RuntimeSeccomp kSafe{true};

}  // namespace

TEST_CASE("SeccompToOci writes the OCI field names; SeccompFromOci reads them back unchanged") {
  const api::LinuxSeccomp policy = FullPolicy();
  const Json oci = SeccompToOci(policy);
  CHECK(oci["defaultAction"] == "SCMP_ACT_ERRNO");
  CHECK(oci["defaultErrnoRet"] == 1);
  CHECK(oci["architectures"] == Json::array({"SCMP_ARCH_X86_64", "SCMP_ARCH_X86"}));
  CHECK(oci["flags"] == Json::array({"SECCOMP_FILTER_FLAG_SPEC_ALLOW"}));
  CHECK(oci["listenerMetadata"] == "meta");
  CHECK_FALSE(oci.contains("listenerPath"));  // empty: left out, not ""
  CHECK(oci["syscalls"][1]["args"][1] ==
        Json({{"index", 1}, {"value", 8}, {"valueTwo", 8}, {"op", "SCMP_CMP_MASKED_EQ"}}));
  CHECK(oci["syscalls"][2]["errnoRet"] == 38);
  CHECK_FALSE(oci["syscalls"][0].contains("errnoRet"));

  auto back = SeccompFromOci(oci);
  REQUIRE(back);
  CHECK(back->SerializeAsString() == policy.SerializeAsString());

  // And from a config.json's own text: the other direction round trip.
  const Json text = Json::parse(R"({"defaultAction": "SCMP_ACT_ALLOW", "listenerPath": "/x/sysinfo",
      "syscalls": [{"names": ["sysinfo"], "action": "SCMP_ACT_NOTIFY"},
                   {"names": ["kill"], "action": "SCMP_ACT_ALLOW",
                    "args": [{"index": 1, "value": 9, "op": "SCMP_CMP_NE"}]}]})");
  auto parsed = SeccompFromOci(text);
  REQUIRE(parsed);
  CHECK(parsed->listener_path() == "/x/sysinfo");
  CHECK_FALSE(parsed->has_default_errno());
  CHECK(SeccompToOci(*parsed) == text);
}

TEST_CASE("SeccompFromOci names the field of the wrong type") {
  struct Case {
    const char* json;
    const char* error;
  };
  const Case cases[] = {
      {R"([])", "not an object"},
      {R"({"defaultAction": 1})", "defaultAction: not a string"},
      {R"({"defaultErrnoRet": -1})", "defaultErrnoRet: not an unsigned number up to 4294967295"},
      {R"({"architectures": "SCMP_ARCH_X86_64"})", "architectures: not an array"},
      {R"({"syscalls": {}})", "syscalls: not an array"},
      {R"({"syscalls": [{"names": ["a", 2]}]})", "syscalls[0]: names: holds a non-string"},
      {R"({"syscalls": [{}, {"args": [{"index": 4294967296}]}]})",
       "syscalls[1]: args[0]: index: not an unsigned number up to 4294967295"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.json);
    auto r = SeccompFromOci(Json::parse(c.json));
    REQUIRE_FALSE(r);
    CHECK(r.error().message() == c.error);
  }
}

TEST_CASE("TrapSysinfo: the policy with sysinfo notified to the listener, nothing else changed") {
  auto trap = TrapSysinfo(WithPolicy(FullPolicy()), kListener, kRunDir, kSafe);
  REQUIRE(trap);
  REQUIRE(trap->policy);
  const api::LinuxSeccomp& p = *trap->policy;
  CHECK(p.listener_path() == kListener);
  CHECK(SysinfoActions(p) == std::vector<std::string>{"SCMP_ACT_NOTIFY"});
  // The allow rule lost sysinfo alone; the rest is as it was.
  REQUIRE(p.syscalls_size() == 4);
  CHECK(p.syscalls(0).names_size() == 2);
  api::LinuxSeccomp rest = p;
  rest.clear_listener_path();
  rest.mutable_syscalls()->RemoveLast();
  api::LinuxSeccomp expected = FullPolicy();
  expected.mutable_syscalls(0)->mutable_names()->DeleteSubrange(1, 1);
  CHECK(rest.SerializeAsString() == expected.SerializeAsString());
}

TEST_CASE("TrapSysinfo declines, with the reason, what it must leave alone") {
  api::LinuxSeccomp default_allow;
  default_allow.set_default_action("SCMP_ACT_ALLOW");
  CHECK(TrapSysinfo(WithPolicy(default_allow), kListener, kRunDir, kSafe)->policy);

  // An older runtime's NRI sends no policy (nor does a container without one).
  auto none = TrapSysinfo(MakeContainer("c1"), kListener, kRunDir, kSafe);
  REQUIRE(none);
  CHECK_FALSE(none->policy);
  CHECK(none->reason.find("no seccomp policy") != std::string::npos);

  struct Case {
    api::LinuxSeccomp policy;
    std::map<std::string, std::string> annotations;
    RuntimeSeccomp runtime;
    const char* reason;
  };
  api::LinuxSeccomp own_listener = default_allow;
  own_listener.set_listener_path("/run/other-agent.sock");
  api::LinuxSeccomp denies = FullPolicy();
  denies.mutable_syscalls(0)->mutable_names()->DeleteSubrange(1, 1);
  api::LinuxSeccomp errno_kill = default_allow;
  auto* rule = errno_kill.add_syscalls();
  rule->add_names("sysinfo");
  rule->set_action("SCMP_ACT_ERRNO");
  api::LinuxSeccomp enosys_default = FullPolicy();
  enosys_default.mutable_default_errno()->set_value(38);
  const Case cases[] = {
      {default_allow, {{"io.prochook.sysinfo", "off"}}, kSafe, "io.prochook.sysinfo=off"},
      {own_listener, {}, kSafe, "listenerPath of its own"},
      {denies, {}, kSafe, "does not allow sysinfo"},
      {errno_kill, {}, kSafe, "rule for sysinfo with action SCMP_ACT_ERRNO"},
      {enosys_default, {}, kSafe, "default errno 38 would be lost"},
      {FullPolicy(), {}, RuntimeSeccomp{false}, "before v0.12.0"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.reason);
    auto trap = TrapSysinfo(WithPolicy(c.policy, c.annotations), kListener, kRunDir, c.runtime);
    REQUIRE(trap);
    CHECK_FALSE(trap->policy);
    CHECK(trap->reason.find(c.reason) != std::string::npos);
  }
  // Without errno rules, an older NRI takes the policy back as it is.
  CHECK(TrapSysinfo(WithPolicy(default_allow), kListener, kRunDir, RuntimeSeccomp{false})->policy);
}

TEST_CASE("RuntimeSeccompFor: errno rules are safe from NRI v0.12.0 on") {
  const std::pair<const char*, bool> cases[] = {
      {"", false},           {"0.0.0-unknown", false},     {"v0.11.0", false},
      {"v0.12.0-rc.1", false}, {"v0.9.1-0.20250101000000-abcdef012345", false},
      {"garbage", false},    {"v0.12.0", true},            {"0.12.2", true},
      {"v0.12.1-0.20260401000000-abcdef012345", true},     {"v1.0.0", true},
  };
  for (const auto& [version, safe] : cases) {
    CAPTURE(version);
    CHECK(RuntimeSeccompFor(version).errno_ret_safe == safe);
  }
}
