// The unix attestor (SPEC section 2): selectors from a process's effective
// user and groups and, with `discover_workload_path`, from the binary it runs.
//
// It reads only files under the request's `proc_root` and the passwd and
// group databases, so it never waits on a daemon and never returns
// `transient_error`: a process it cannot read is `soft_error`.
#pragma once

#include <string_view>

#include "attestors/attestor.h"
#include "attestors/unix/unix_options.h"

namespace reattest::attestors {

class UnixAttestor : public Attestor {
 public:
  explicit UnixAttestor(const UnixOptions& options) : options_(options) {}

  std::string_view name() const override { return "unix"; }
  WorkKind work_kind() const override { return WorkKind::kProc; }

  // Blocking (/proc reads, NSS lookups, hashing up to `workload_size_limit`
  // bytes); thread-safe, as the options are immutable after construction.
  //
  // `ok`: `unix:uid`, `unix:gid`, `unix:supplementary_gid` and, for IDs with
  // an entry in the passwd or group database, `unix:user`, `unix:group`,
  // `unix:supplementary_group`; with `discover_workload_path` also
  // `unix:path` and `unix:sha256`. A binary over `workload_size_limit` gets
  // no `unix:sha256`, and `reason` says so for the caller's warning.
  //
  // `soft_error` (with `reason`): /proc/PID/status, the exe link or the
  // binary could not be read (typically the process exited), or a name
  // lookup failed for another reason than the ID having no entry.
  AttestResult Attest(const AttestRequest& request) override;

 private:
  const UnixOptions options_;
};

}  // namespace reattest::attestors
