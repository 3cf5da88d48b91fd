#include "oci/state.h"

#include "oci/json.h"

namespace prochook {

Result<OciState> ParseState(std::string_view text) {
  TRY_ASSIGN(nlohmann::json doc, ParseJsonObject(text, "OCI state"), "OCI state");
  OciState s;
  TRY_ASSIGN(auto version, StringField(doc, "ociVersion"), "OCI state");
  TRY_ASSIGN(auto id, StringField(doc, "id"), "OCI state");
  TRY_ASSIGN(auto status, StringField(doc, "status"), "OCI state");
  TRY_ASSIGN(auto pid, IntField(doc, "pid"), "OCI state");
  TRY_ASSIGN(auto bundle, StringField(doc, "bundle"), "OCI state");
  TRY_ASSIGN(s.annotations, StringMapField(doc, "annotations"), "OCI state");
  if (!id || id->empty()) return Error::Msg("OCI state: missing \"id\"");
  if (!bundle || bundle->empty()) return Error::Msg("OCI state: missing \"bundle\"");
  s.oci_version = version.value_or("");
  s.id = *id;
  s.status = status.value_or("");
  s.bundle = *bundle;
  if (pid) {
    if (*pid < 0 || *pid > 0x3fffffff) return Error::Msg("OCI state: \"pid\" out of range");
    s.pid = static_cast<pid_t>(*pid);
  }
  if (s.pid == 0 && s.status != "stopped") {
    return Error::Msg("OCI state: missing \"pid\" (status \"" + s.status + "\")");
  }
  return s;
}

}  // namespace prochook
