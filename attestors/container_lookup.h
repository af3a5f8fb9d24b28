// Steps shared by the attestors that look a container up in a daemon (docker,
// k8s): reading the process's cgroups, and deciding what "the daemon does not
// know it" means for a process of a given age (SPEC section 2).
//
// Blocking /proc reads; thread-safe.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "attestors/attestor.h"
#include "attestors/cgroup.h"
#include "common/duration.h"

namespace reattest::attestors {

// `result` with `outcome` and `reason` set.
AttestResult WithOutcome(Outcome outcome, std::string reason, AttestResult result = {});

// Reads PROC_ROOT/PID/cgroup and parses it; errors carry the path or the
// conflict.
absl::StatusOr<CgroupInfo> ReadCgroups(const AttestRequest& request);

// The outcome for a container the daemon does not know (`unknown` says which
// and where). A daemon may not list a container it is still creating, so a
// process younger than `grace` is `transient_error`; an older one, or one
// whose age cannot be read, is `soft_error`, so a foreign container is not
// retried forever.
AttestResult NotFoundResult(const AttestRequest& request, Duration grace, std::string unknown,
                            AttestResult result);

}  // namespace reattest::attestors
